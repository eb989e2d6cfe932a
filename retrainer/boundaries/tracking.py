"""Every MLflow call of the project: runs, models, the registry and its aliases.

Aliases, not stages (deprecated in MLflow 3): ``champion`` is the model in service,
``challenger`` the latest version that was evaluated but not promoted.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrainer.boundaries.settings import MLFLOW_UI_URL_FILE, Home
from retrainer.domain.records import LoggedModel, TrainingRecord, TrialRecord

CHAMPION = "champion"
CHALLENGER = "challenger"

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
    mlflow = _mlflow()
    mlflow.set_tracking_uri(tracking_uri)
    found = mlflow.get_experiment_by_name(experiment)
    if found is not None:
        return found.experiment_id
    # A local database keeps artifacts beside it; a tracking server decides for itself.
    location = None if tracking_uri.startswith("http") else (artifact_root / experiment).as_uri()
    return mlflow.create_experiment(experiment, artifact_location=location)


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

    with mlflow.start_run(
        experiment_id=experiment_id, run_name=record.run_name, tags=record.tags
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
        _log_trials(experiment_id, record.trials)
        example = record.input_example
        # A classifier serves probabilities, a regressor its predictions.
        predict_fn = "predict_proba" if hasattr(model, "predict_proba") else "predict"
        signature = infer_signature(example, getattr(model, predict_fn)(example))
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=signature,
            input_example=example,
            pip_requirements=PIP_REQUIREMENTS,
            registered_model_name=registered_model,
            pyfunc_predict_fn=predict_fn,
            skops_trusted_types=_skops_trusted_types(model),
        )
    return LoggedModel(
        run_id=run.info.run_id,
        experiment_id=experiment_id,
        model=registered_model,
        version=str(info.registered_model_version),
    )


def _log_trials(experiment_id: str, trials: list[TrialRecord]) -> None:
    """Each candidate of the search as a nested run under the active training run."""
    mlflow = _mlflow()
    for trial in trials:
        with mlflow.start_run(experiment_id=experiment_id, run_name=trial.run_name, nested=True):
            mlflow.log_params(trial.params)
            mlflow.log_metrics({k: v for k, v in trial.metrics.items() if v == v})


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
