"""Every MLflow call of the project: runs, models, the registry and its aliases.

Aliases, not stages (deprecated in MLflow 3): ``champion`` is the model in service,
``challenger`` the latest version that was evaluated but not promoted.
"""

import json
import logging
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from retrainer.boundaries.settings import MLFLOW_UI_URL_FILE, Home
from retrainer.domain.records import LoggedModel, TrainingRecord

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

# Explicit requirements: inferring them costs 5-6 s per log_model (measured here).
PIP_REQUIREMENTS = ["scikit-learn", "pandas", "numpy", "scipy"]


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
        return mlflow.create_experiment(experiment, artifact_location=location, tags=tags)
    client = mlflow.MlflowClient()
    for key, value in tags.items():
        if found.tags.get(key) != value:
            client.set_experiment_tag(found.experiment_id, key, value)
    return found.experiment_id


def _skops_trusted_types(model: Any) -> list[str]:
    """The types in our own freshly fitted model that skops asks us to vouch for."""
    import skops.io

    return skops.io.get_untrusted_types(data=skops.io.dumps(model))


def log_training_run(
    experiment_id: str, registered_model: str, model: Any, record: TrainingRecord
) -> LoggedModel:
    """Log one training run (params, metrics, plots, data lineage, model) and register it."""
    import matplotlib.pyplot as plt

    mlflow = _mlflow()
    from mlflow.models import infer_signature

    # Created first so that it can start when the flow run started: the run's duration in
    # the UI is then the whole retrain, not the few seconds of logging.
    created = mlflow.MlflowClient().create_run(
        experiment_id,
        start_time=int(record.started_at.timestamp() * 1000) if record.started_at else None,
        tags=record.tags,
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
        example = record.input_example
        signature = infer_signature(example, model.predict_proba(example))
        with warnings.catch_warnings():
            # MLflow's own input-example code compares columns with a range (pandas 3
            # deprecates that); nothing in our data changes it.
            warnings.filterwarnings("ignore", "Operation with range is deprecated")
            info = _log_model(mlflow, model, registered_model, signature, example)
    return LoggedModel(
        run_id=run.info.run_id,
        experiment_id=experiment_id,
        model=registered_model,
        version=str(info.registered_model_version),
        run_name=record.run_name,
    )


def _log_model(mlflow: Any, model: Any, registered_model: str, signature: Any, example: Any):
    """The model with its signature and input example, registered as a new version."""
    return mlflow.sklearn.log_model(
        model,
        name="model",
        signature=signature,
        input_example=example,
        pip_requirements=PIP_REQUIREMENTS,
        registered_model_name=registered_model,
        pyfunc_predict_fn="predict_proba",
        skops_trusted_types=_skops_trusted_types(model),
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
    """Load a registered version as the scikit-learn object it was logged as."""
    return _mlflow().sklearn.load_model(f"models:/{registered_model}/{version}")


def record_decision(
    registered_model: str,
    version: str,
    run_id: str,
    decision: dict[str, Any],
    run_name: str | None = None,
) -> None:
    """Tag the version and its run with the promotion decision and its reason; rename the run."""
    mlflow = _mlflow()
    client = mlflow.MlflowClient()
    if run_name:
        client.update_run(run_id, name=run_name)
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
