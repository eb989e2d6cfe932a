"""Every MLflow call of the project: runs, models, the registry and its aliases.

Aliases, not stages (deprecated in MLflow 3): ``champion`` is the model in service,
``challenger`` the latest version that was evaluated but not promoted.
"""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrainer.boundaries.settings import MLFLOW_UI_URL_FILE, Home
from retrainer.domain.records import LoggedModel, TrainingRecord

CHAMPION = "champion"
CHALLENGER = "challenger"

# The only types a model file may contain beyond what skops trusts by default: what the
# model families in domain/modeling.py need (checked by a unit test for every family).
# Saving refuses a model with any other; loading refuses a file that names any other.
TRUSTED_TYPES = (
    "functools.partial",
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
    "sklearn.utils.validation.check_array",
)


class ModelArtifactError(ValueError):
    """A registered model cannot be loaded safely: damaged, missing, not skops, or untrusted."""


class UntrustedModelError(ModelArtifactError):
    """A model file names a type outside ``TRUSTED_TYPES``."""


# Explicit requirements: inferring them costs 5-6 s per log_model (measured here).
PIP_REQUIREMENTS = ["scikit-learn", "pandas", "numpy", "scipy"]


def _mlflow():
    import mlflow

    return mlflow


def connect(tracking_uri: str) -> None:
    """Point MLflow's client at ``tracking_uri``."""
    _mlflow().set_tracking_uri(tracking_uri)


def use_experiment(tracking_uri: str, experiment: str, artifact_root: Path) -> str:
    """Point MLflow at ``tracking_uri`` and return the experiment id, creating it if new."""
    from mlflow.exceptions import MlflowException

    mlflow = _mlflow()
    mlflow.set_tracking_uri(tracking_uri)
    found = mlflow.get_experiment_by_name(experiment)
    if found is not None:
        return found.experiment_id
    # A local database keeps artifacts beside it; a tracking server decides for itself.
    location = None if tracking_uri.startswith("http") else (artifact_root / experiment).as_uri()
    try:
        return mlflow.create_experiment(experiment, artifact_location=location)
    except MlflowException:
        # Another run created it between our lookup and our create.
        found = mlflow.get_experiment_by_name(experiment)
        if found is None:
            raise
        return found.experiment_id


def _skops_trusted_types(model: Any) -> list[str]:
    """The types skops asks us to vouch for in our own fitted model: only those we allow."""
    import skops.io

    found = skops.io.get_untrusted_types(data=skops.io.dumps(model))
    refused = sorted(set(found) - set(TRUSTED_TYPES))
    if refused:
        raise UntrustedModelError(
            f"the fitted model contains types outside the trusted list: {refused}; review "
            "them and add them to tracking.TRUSTED_TYPES if they are safe to load"
        )
    return found


def log_training_run(
    experiment_id: str, registered_model: str, model: Any, record: TrainingRecord
) -> LoggedModel:
    """Log one training run (params, metrics, plots, data lineage, model) and register it."""
    import matplotlib.pyplot as plt

    mlflow = _mlflow()
    from mlflow.models import infer_signature

    with mlflow.start_run(
        experiment_id=experiment_id, run_name=record.run_name, tags={**record.tags, **owner_tags()}
    ) as run:
        mlflow.log_params(record.params)
        mlflow.log_metrics({k: v for k, v in record.metrics.items() if v == v})
        for name, figure in record.figures.items():
            mlflow.log_figure(figure, f"plots/{name}")
            plt.close(figure)  # pyplot keeps every figure open until closed
        for name, document in record.documents.items():
            mlflow.log_dict(document, name)
        dataset = mlflow.data.from_pandas(
            record.schema, name="training-table", digest=record.data_digest[:36]
        )
        mlflow.log_input(dataset, context="training")
        example = record.input_example
        signature = infer_signature(example, model.predict_proba(example))
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=signature,
            input_example=example,
            pip_requirements=PIP_REQUIREMENTS,
            registered_model_name=registered_model,
            pyfunc_predict_fn="predict_proba",
            skops_trusted_types=_skops_trusted_types(model),
        )
    return LoggedModel(
        run_id=run.info.run_id,
        experiment_id=experiment_id,
        model=registered_model,
        version=str(info.registered_model_version),
    )


def alias_version(registered_model: str, alias: str) -> str | None:
    """The version an alias points to, or None."""
    from mlflow.exceptions import MlflowException

    client = _mlflow().MlflowClient()
    try:
        return str(client.get_model_version_by_alias(registered_model, alias).version)
    except MlflowException:
        return None


def load_model(registered_model: str, version: str) -> Any:
    """Load a registered version as the scikit-learn object it was logged as.

    Only skops files are read, and only with ``TRUSTED_TYPES``: the list MLflow keeps in the
    model's own MLmodel file is never trusted (a crafted artifact could vouch for anything),
    and pickle is never read. A model that is not skops, names a type outside the list, or
    cannot be read raises ``ModelArtifactError``.
    """
    import skops.io
    import yaml

    uri = f"models:/{registered_model}/{version}"
    try:
        local = Path(_mlflow().artifacts.download_artifacts(uri))
        flavor = yaml.safe_load((local / "MLmodel").read_text())["flavors"]["sklearn"]
        if flavor.get("serialization_format") != "skops":
            raise ModelArtifactError(
                f"{uri} is stored as {flavor.get('serialization_format')!r}, not skops: "
                "refusing to unpickle it (retrain, or log it again with skops)"
            )
        path = local / flavor["pickled_model"]
        found = skops.io.get_untrusted_types(file=path)
        refused = sorted(set(found) - set(TRUSTED_TYPES))
        if refused:
            raise UntrustedModelError(
                f"{uri} contains types outside the trusted list: {refused}; refusing to load it"
            )
        return skops.io.load(path, trusted=found)
    except ModelArtifactError:
        raise
    except Exception as exc:
        raise ModelArtifactError(
            f"{uri} cannot be loaded, its artifact is damaged or missing: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def record_decision(
    registered_model: str, version: str, run_id: str, decision: dict[str, Any]
) -> None:
    """Tag the version and its run with the promotion decision and its reason."""
    mlflow = _mlflow()
    client = mlflow.MlflowClient()
    for key in ("decision", "reason", "champion_before"):
        value = str(decision.get(key))
        client.set_model_version_tag(registered_model, version, f"promotion.{key}", value)
        client.set_tag(run_id, f"promotion.{key}", value)
    client.log_dict(run_id, decision, "promotion.json")
    if decision.get("champion_metric") is not None:
        client.log_metric(
            run_id, "champion_test_" + decision["metric"], decision["champion_metric"]
        )


def set_alias(registered_model: str, alias: str, version: str) -> None:
    """Point ``alias`` at ``version`` (one atomic registry update)."""
    _mlflow().MlflowClient().set_registered_model_alias(registered_model, alias, version)


def version_threshold(registered_model: str, version: str) -> float:
    """The decision threshold a version was logged with (0.5 when unknown)."""
    client = _mlflow().MlflowClient()
    run_id = client.get_model_version(registered_model, version).run_id
    return float(client.get_run(run_id).data.params.get("threshold", 0.5))


def ui_url(h: Home) -> str | None:
    """The MLflow UI to link to: the server ``make up`` started, or a tracking server in use."""
    started = h.stack_url(MLFLOW_UI_URL_FILE)
    if started:
        return started.rstrip("/")
    return h.mlflow_uri.rstrip("/") if h.mlflow_uri.startswith("http") else None


@dataclass(frozen=True)
class FlowRunModel:
    """The model version a Prefect flow run registered, and what the gate decided."""

    logged: LoggedModel
    decision: str | None


def find_flow_run_model(tracking_uri: str, flow_run_id: str) -> FlowRunModel | None:
    """The model version registered by the Prefect flow run ``flow_run_id``, if any."""
    mlflow = _mlflow()
    mlflow.set_tracking_uri(tracking_uri)
    client = mlflow.MlflowClient()
    runs = client.search_runs(
        [e.experiment_id for e in client.search_experiments()],
        filter_string=f"tags.prefect_flow_run_id = '{flow_run_id}'",
        max_results=1,
    )
    if not runs:
        return None
    run = runs[0]
    versions = client.search_model_versions(f"run_id = '{run.info.run_id}'")
    if not versions:
        return None
    version, tags = versions[0], run.data.tags
    decided = "promotion.decision" in tags
    return FlowRunModel(
        logged=LoggedModel(
            run_id=run.info.run_id,
            experiment_id=run.info.experiment_id,
            model=version.name,
            version=str(version.version),
        ),
        decision=f"{tags['promotion.decision']}: {tags.get('promotion.reason', '')}"
        if decided
        else None,
    )


# --- setup and repair: before a run does any work ---------------------------------------------

OWNER_HOST, OWNER_PID, OWNER_START = "retrainer.host", "retrainer.pid", "retrainer.process_start"
INTERRUPTED = "failed"


def _process_start(pid: int) -> str:
    """When process ``pid`` started (clock ticks since boot): tells a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def owner_tags() -> dict[str, str]:
    """Tags naming the process that logs a run: the next run can tell whether it died."""
    import socket

    pid = os.getpid()
    return {OWNER_HOST: socket.gethostname(), OWNER_PID: str(pid), OWNER_START: _process_start(pid)}


def _owner_gone(tags: dict[str, str]) -> bool | None:
    """True when the run's process is dead; None when it ran on another machine (unknown)."""
    import socket

    if OWNER_PID not in tags:
        return True  # logged before runs named their process: nothing can still be writing
    if tags.get(OWNER_HOST) != socket.gethostname():
        return None
    started = _process_start(int(tags[OWNER_PID]))
    return not started or started != tags.get(OWNER_START)


def prepare_local_store(tracking_uri: str, artifact_root: Path, lock: Path) -> list[str]:
    """Create or migrate a local MLflow database once, and point it at this home's artifacts.

    Two runs starting together on a fresh home would both migrate the database and one
    would fail (``duplicate column name``): the migration holds a file lock. A copied or
    moved home keeps absolute artifact paths of the old one in its database (MLflow fixes
    an experiment's artifact location at creation): they are rewritten to ``artifact_root``
    so the copy reads and writes its own files. Returns the rewritten prefixes.
    """
    if not tracking_uri.startswith("sqlite:///"):
        return []
    from retrainer.boundaries.locks import file_lock

    with file_lock(lock):
        _mlflow().MlflowClient(tracking_uri).search_experiments(max_results=1)
        return rebase_artifacts(Path(tracking_uri.removeprefix("sqlite:///")), artifact_root)


# Where a local database keeps absolute artifact paths (MLflow 3.x schema).
ARTIFACT_COLUMNS = (
    ("experiments", "artifact_location"),
    ("runs", "artifact_uri"),
    ("logged_models", "artifact_location"),
    ("model_versions", "storage_location"),
    ("model_versions", "source"),
)


def rebase_artifacts(database: Path, artifact_root: Path) -> list[str]:
    """Rewrite artifact paths under another home's ``mlartifacts`` to ``artifact_root``."""
    import re
    import sqlite3

    new = artifact_root.as_uri()
    name = re.escape(artifact_root.name)
    with sqlite3.connect(database) as db:
        locations = [row[0] for row in db.execute("SELECT artifact_location FROM experiments")]
        old = sorted(
            {
                match.group(1)
                for location in locations
                if (match := re.match(rf"^(file://.*/{name})/", location or ""))
                and match.group(1) != new
            }
        )
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        for prefix in old:
            for table, column in ARTIFACT_COLUMNS:
                if table in tables:
                    db.execute(
                        f"UPDATE {table} SET {column} = ? || substr({column}, ?) "
                        f"WHERE substr({column}, 1, ?) = ?",
                        (new, len(prefix) + 1, len(prefix), prefix),
                    )
    return old


@dataclass
class Repair:
    """What a run closed that killed runs had left behind."""

    runs_failed: list[str]
    versions_closed: list[str]
    problems: list[str]


def repair_interrupted(registered_model: str, experiment: str, now: str) -> Repair:
    """Close what killed runs left: ``RUNNING`` runs and versions without a decision.

    A run whose process is gone is marked FAILED; a version it registered but never decided
    on gets the decision ``failed`` with the reason. Runs of live
    processes (a concurrent retrain) and of other machines are left alone. ``champion`` on a
    version without a recorded decision is reported, never moved here.
    """
    from mlflow.exceptions import MlflowException

    client = _mlflow().MlflowClient()
    repair = Repair([], [], [])
    found = client.get_experiment_by_name(experiment)
    if found is not None:
        running = client.search_runs(
            [found.experiment_id], filter_string="attributes.status = 'RUNNING'"
        )
        for run in running:
            if _owner_gone(run.data.tags):
                why = f"the process that logged this run ended before it did (found at {now})"
                client.set_tag(run.info.run_id, "retrainer.interrupted", why)
                client.set_terminated(run.info.run_id, "FAILED")
                repair.runs_failed.append(run.info.run_id)
    try:
        versions = client.search_model_versions(f"name = '{registered_model}'")
    except MlflowException:
        return repair
    for version in versions:
        if "promotion.decision" in version.tags:
            continue
        tags = client.get_run(version.run_id).data.tags if version.run_id else {}
        if not _owner_gone(tags):
            continue
        reason = (
            f"the run that registered v{version.version} was interrupted before its promotion "
            f"decision; closed at {now} by a later run, never promoted"
        )
        for key, value in (("decision", INTERRUPTED), ("reason", reason)):
            client.set_model_version_tag(
                registered_model, version.version, f"promotion.{key}", value
            )
            if version.run_id:
                client.set_tag(version.run_id, f"promotion.{key}", value)
        repair.versions_closed.append(str(version.version))
    champion = next((v for v in versions if CHAMPION in v.aliases), None)
    if champion is not None and "promotion.decision" not in champion.tags:
        repair.problems.append(
            f"champion points at v{champion.version}, which has no recorded promotion decision"
        )
    return repair
