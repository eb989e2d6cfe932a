"""Every MLflow call of the project: runs, models, the registry and its aliases.

Aliases, not stages (deprecated in MLflow 3): ``champion`` is the model in service,
``challenger`` the latest version that was evaluated but not promoted.
"""

import json
import logging
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from retrainer.boundaries.settings import MLFLOW_UI_URL_FILE, Home
from retrainer.domain.records import LoggedModel, TrainingRecord, TrialRecord

CHAMPION = "champion"
CHALLENGER = "challenger"
# The MLflow 3 UI opens an experiment on a GenAI overview (traces, an assistant) unless this
# tag says it holds model training; then its link opens the runs.
EXPERIMENT_KIND = "mlflow.experimentKind"
MODEL_TRAINING = "custom_model_development"
# A view of the runs list saved in an experiment tag, as the UI's own "Share" button saves
# one; a link with ``?viewStateShareKey=retrainer`` opens the list with its columns.
VIEW_TAG_PREFIX = "mlflow.sharedViewState."
RUNS_VIEW = "retrainer"

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
T = TypeVar("T")


class _NoPipVersion(logging.Filter):
    """Drops MLflow's "Failed to resolve installed pip version" warning.

    uv builds the venv without pip, so MLflow writes ``pip`` unversioned into the model's
    conda.yaml and warns on every logged model. Nothing here installs a model from that
    file (serving uses ``--env-manager local``), so there is nothing a user could act on.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "installed pip version" not in record.getMessage()


def _mlflow():
    import mlflow

    environment_logger = logging.getLogger("mlflow.utils.environment")
    if not any(isinstance(f, _NoPipVersion) for f in environment_logger.filters):
        environment_logger.addFilter(_NoPipVersion())
    return mlflow


def connect(tracking_uri: str) -> None:
    """Point MLflow's client at ``tracking_uri``."""
    _mlflow().set_tracking_uri(tracking_uri)


def use_experiment(
    tracking_uri: str, experiment: str, artifact_root: Path, view: dict[str, Any] | None = None
) -> str:
    """Point MLflow at ``tracking_uri`` and return the experiment id, creating it if new.

    The experiment is marked as model training (an existing one too) and, with ``view``,
    carries a saved view of its runs list (``RUNS_VIEW``): which columns it shows.
    """
    from mlflow.exceptions import MlflowException

    mlflow = _mlflow()
    mlflow.set_tracking_uri(tracking_uri)
    tags = {EXPERIMENT_KIND: MODEL_TRAINING}
    if view is not None:
        tags[VIEW_TAG_PREFIX + RUNS_VIEW] = json.dumps(view, sort_keys=True)
    found = mlflow.get_experiment_by_name(experiment)
    if found is None:
        # A local database keeps artifacts beside it; a tracking server decides for itself.
        location = (
            None if tracking_uri.startswith("http") else (artifact_root / experiment).as_uri()
        )
        try:
            return mlflow.create_experiment(experiment, artifact_location=location, tags=tags)
        except MlflowException:
            # Another run created it between our lookup and our create.
            found = mlflow.get_experiment_by_name(experiment)
            if found is None:
                raise
    client = mlflow.MlflowClient()
    for key, value in tags.items():
        if found.tags.get(key) != value:
            client.set_experiment_tag(found.experiment_id, key, value)
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

    # Created first so that it can start when the flow run started: the run's duration in
    # the UI is then the whole retrain, not the few seconds of logging. The owner tags name
    # this process, so that the next run can tell whether it died mid-way.
    created = mlflow.MlflowClient().create_run(
        experiment_id,
        start_time=int(record.started_at.timestamp() * 1000) if record.started_at else None,
        tags={**record.tags, **owner_tags()},
        run_name=record.run_name,
    )
    with mlflow.start_run(run_id=created.info.run_id) as run:
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
        with warnings.catch_warnings():
            # The training table's schema is lineage, not the model's signature: its integer
            # columns are keys and the 0/1 label, never missing. The model's own inputs are
            # floats and strings (features.build_training_table), so MLflow's hint about
            # missing values in integer inputs does not apply to anything a model is served.
            warnings.filterwarnings("ignore", "Hint: Inferred schema contains integer")
            mlflow.log_input(dataset, context="training")
        _log_trials(experiment_id, record.trials)
        example = record.input_example
        # A classifier serves probabilities, a regressor its predictions.
        predict_fn = "predict_proba" if hasattr(model, "predict_proba") else "predict"
        signature = infer_signature(example, getattr(model, predict_fn)(example))
        with warnings.catch_warnings():
            # MLflow's own input-example code compares columns with a range (pandas 3
            # deprecates that); nothing in our data changes it.
            warnings.filterwarnings("ignore", "Operation with range is deprecated")
            info = _log_model(mlflow, model, registered_model, signature, example, predict_fn)
    return LoggedModel(
        run_id=run.info.run_id,
        experiment_id=experiment_id,
        model=registered_model,
        version=str(info.registered_model_version),
        run_name=record.run_name,
    )


def _log_model(
    mlflow: Any, model: Any, registered_model: str, signature: Any, example: Any, predict_fn: str
):
    """The model with its signature and input example, registered as a new version."""
    return mlflow.sklearn.log_model(
        model,
        name="model",
        signature=signature,
        input_example=example,
        pip_requirements=PIP_REQUIREMENTS,
        registered_model_name=registered_model,
        pyfunc_predict_fn=predict_fn,
        skops_trusted_types=_skops_trusted_types(model),
    )


def _log_trials(experiment_id: str, trials: list[TrialRecord]) -> None:
    """Each candidate of the search as a nested run under the active training run."""
    mlflow = _mlflow()
    for trial in trials:
        with mlflow.start_run(experiment_id=experiment_id, run_name=trial.run_name, nested=True):
            mlflow.log_params(trial.params)
            mlflow.log_metrics({k: v for k, v in trial.metrics.items() if v == v})


class RegistryError(RuntimeError):
    """The MLflow registry did not answer as it should: permissions, server error, no connection."""


def _failure(what: str, exc: Exception) -> str:
    code, message = getattr(exc, "error_code", ""), getattr(exc, "message", str(exc))
    return (
        f"the MLflow registry at {_mlflow().get_tracking_uri()} failed to {what}: {code}: {message}"
    )


@contextmanager
def _registry(what: str) -> Iterator[None]:
    """Turn any MLflow failure while doing ``what`` into one clear ``RegistryError``."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except MlflowException as exc:
        raise RegistryError(_failure(what, exc)) from exc


def _lookup(what: str, call: Callable[[], T]) -> T | None:
    """``call()``; None only when the registry says the thing does not exist.

    Any other answer (403, 500, no connection) raises ``RegistryError``: "cannot tell" must
    never be read as "there is none".
    """
    from mlflow.exceptions import MlflowException

    try:
        return call()
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise RegistryError(_failure(what, exc)) from exc


def alias_version(registered_model: str, alias: str) -> str | None:
    """The version an alias points to; None only when the model or the alias does not exist.

    Read from the registered model's alias table: MLflow answers a missing alias with
    INVALID_PARAMETER_VALUE, the same code as for a malformed request, so asking for the
    alias itself could not tell "no champion" from "a broken question".
    """
    client = _mlflow().MlflowClient()
    found = _lookup(
        f"say which version of {registered_model} is {alias!r}",
        lambda: client.get_registered_model(registered_model),
    )
    version = None if found is None else found.aliases.get(alias)
    return None if version is None else str(version)


@dataclass(frozen=True)
class VersionInfo:
    """A registered model version as the registry describes it."""

    version: str
    run_id: str
    status: str
    source: str
    tags: dict[str, str]


def model_version(registered_model: str, version: str) -> VersionInfo | None:
    """A registered version (``source``: where its files are), or None when it does not exist."""
    client = _mlflow().MlflowClient()
    found = _lookup(
        f"read {registered_model} v{version}",
        lambda: client.get_model_version(registered_model, version),
    )
    if found is None:
        return None
    with _registry(f"find the files of {registered_model} v{version}"):
        source = client.get_model_version_download_uri(registered_model, version)
    return VersionInfo(
        str(found.version), found.run_id or "", str(found.status), source, dict(found.tags)
    )


def search_versions(registered_model: str, tags: dict[str, str]) -> list[VersionInfo]:
    """Versions of a model carrying all of ``tags`` (exact values)."""
    clauses = [f"name = '{registered_model}'"]
    clauses += [f"tags.`{key}` = '{value}'" for key, value in tags.items()]
    with _registry(f"search the versions of {registered_model}"):
        found = _mlflow().MlflowClient().search_model_versions(" and ".join(clauses))
    return [
        VersionInfo(str(v.version), v.run_id or "", str(v.status), v.source, dict(v.tags))
        for v in found
    ]


@dataclass(frozen=True)
class RunRecord:
    """What a run logged: params, tags and metrics."""

    params: dict[str, str]
    tags: dict[str, str]
    metrics: dict[str, float]


def run_record(run_id: str) -> RunRecord:
    """A run's params, tags and metrics."""
    with _registry(f"read run {run_id}"):
        data = _mlflow().MlflowClient().get_run(run_id).data
    return RunRecord(dict(data.params), dict(data.tags), dict(data.metrics))


def run_document(run_id: str, path: str) -> Any:
    """A JSON document logged on a run (e.g. ``config.json``)."""
    return _mlflow().artifacts.load_dict(f"runs:/{run_id}/{path}")


def log_run_artifacts(
    run_id: str, documents: dict[str, Any], texts: dict[str, str], figures: dict[str, Any]
) -> None:
    """Add JSON documents, text files and matplotlib figures to a run (finished or not)."""
    import matplotlib.pyplot as plt

    client = _mlflow().MlflowClient()
    with _registry(f"log artifacts on run {run_id}"):
        for name, document in documents.items():
            client.log_dict(run_id, document, name)
        for name, text in texts.items():
            client.log_text(run_id, text, name)
        for name, figure in figures.items():
            client.log_figure(run_id, figure, name)
            plt.close(figure)


def set_tags(registered_model: str, version: str, run_id: str | None, tags: dict[str, str]) -> None:
    """Tag a version (and its run, when given) with each of ``tags``."""
    client = _mlflow().MlflowClient()
    with _registry(f"tag {registered_model} v{version}"):
        for key, value in tags.items():
            client.set_model_version_tag(registered_model, version, key, value)
            if run_id:
                client.set_tag(run_id, key, value)


def registered_model_tags(registered_model: str) -> dict[str, str]:
    """The tags of a registered model (empty when the model does not exist yet)."""
    found = _lookup(
        f"read {registered_model}",
        lambda: _mlflow().MlflowClient().get_registered_model(registered_model),
    )
    return {} if found is None else dict(found.tags)


def set_registered_model_tag(registered_model: str, key: str, value: str) -> None:
    """Set one tag on a registered model."""
    with _registry(f"tag the registered model {registered_model}"):
        _mlflow().MlflowClient().set_registered_model_tag(registered_model, key, value)


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
    registered_model: str,
    version: str,
    run_id: str,
    decision: dict[str, Any],
    tags: dict[str, str],
    run_name: str | None = None,
) -> None:
    """Tag the version and its run with the decision (``promotion.json`` holds all of it);
    give the run the name that says what became of it."""
    set_tags(registered_model, version, run_id, tags)
    client = _mlflow().MlflowClient()
    with _registry(f"record the decision on run {run_id}"):
        if run_name:
            client.update_run(run_id, name=run_name)
        client.log_dict(run_id, decision, "promotion.json")
        if decision.get("champion_metric") is not None:
            client.log_metric(
                run_id, "champion_test_" + decision["metric"], decision["champion_metric"]
            )


def set_alias(registered_model: str, alias: str, version: str) -> None:
    """Point ``alias`` at ``version`` (one atomic registry update)."""
    with _registry(f"point {registered_model}@{alias} at v{version}"):
        _mlflow().MlflowClient().set_registered_model_alias(registered_model, alias, version)


def delete_alias(registered_model: str, alias: str) -> None:
    """Remove ``alias`` from the registered model."""
    with _registry(f"remove {registered_model}@{alias}"):
        _mlflow().MlflowClient().delete_registered_model_alias(registered_model, alias)


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


@dataclass(frozen=True)
class VersionStatus:
    """A registered version as ``retrainer status`` shows it: its run, scores and verdict."""

    version: str
    run_name: str
    created: datetime
    metrics: dict[str, float]
    decision: str
    reason: str


@dataclass(frozen=True)
class RecentRun:
    """One training run: when, on what data, the version it registered, what the gate said."""

    name: str
    started: datetime
    version: str | None
    decision: str
    metrics: dict[str, float]


@dataclass(frozen=True)
class ModelStatus:
    """The model in service, the latest challenger and the latest runs."""

    champion: VersionStatus | None = None
    challenger: VersionStatus | None = None
    runs: list[RecentRun] = field(default_factory=list)
    experiment_id: str | None = None


def _test_metrics(metrics: dict[str, float]) -> dict[str, float]:
    return {k.removeprefix("test_"): v for k, v in metrics.items() if k.startswith("test_")}


def _when(milliseconds: int | None) -> datetime:
    return datetime.fromtimestamp((milliseconds or 0) / 1000, UTC)


def model_status(
    tracking_uri: str, experiment: str, registered_model: str, last: int = 5
) -> ModelStatus:
    """Champion, challenger and the ``last`` runs of an experiment (empty if nothing yet)."""
    local = tracking_uri.removeprefix("sqlite:///")
    if tracking_uri.startswith("sqlite:///") and not Path(local).exists():
        return ModelStatus()  # nothing logged yet; do not create an empty database
    mlflow = _mlflow()
    mlflow.set_tracking_uri(tracking_uri)
    client = mlflow.MlflowClient()
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return ModelStatus()
    versions = {v.run_id: str(v.version) for v in _versions(client, registered_model)}

    def aliased(alias: str) -> VersionStatus | None:
        version = alias_version(registered_model, alias)
        if version is None:
            return None
        details = client.get_model_version(registered_model, version)
        run = client.get_run(details.run_id)
        return VersionStatus(
            version=version,
            run_name=run.info.run_name,
            created=_when(details.creation_timestamp),
            metrics=_test_metrics(run.data.metrics),
            decision=details.tags.get("promotion.decision", ""),
            reason=details.tags.get("promotion.reason", ""),
        )

    runs = client.search_runs(
        [found.experiment_id], order_by=["attributes.start_time DESC"], max_results=last
    )
    return ModelStatus(
        champion=aliased(CHAMPION),
        challenger=aliased(CHALLENGER),
        runs=[
            RecentRun(
                name=run.info.run_name,
                started=_when(run.info.start_time),
                version=versions.get(run.info.run_id),
                decision=run.data.tags.get("promotion.decision", "(no decision)"),
                metrics=_test_metrics(run.data.metrics),
            )
            for run in runs
        ],
        experiment_id=found.experiment_id,
    )


def _versions(client: Any, registered_model: str) -> list[Any]:
    from mlflow.exceptions import MlflowException

    try:
        return list(client.search_model_versions(f"name = '{registered_model}'"))
    except MlflowException:
        return []


def log_report_run(
    experiment_id: str,
    run_name: str,
    tags: dict[str, str],
    metrics: dict[str, float],
    documents: dict[str, Any],
    figures: dict[str, Any],
) -> str:
    """Log a run that holds a report (metrics, JSON documents, plots) and no model; its id."""
    mlflow = _mlflow()
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=tags) as run:
        mlflow.log_metrics(metrics)
    plots = {f"plots/{name}": figure for name, figure in figures.items()}
    log_run_artifacts(run.info.run_id, documents, {}, plots)
    return run.info.run_id


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
