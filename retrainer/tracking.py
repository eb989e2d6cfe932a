"""Every MLflow call of the project: runs, models, the registry and its aliases.

Aliases, not stages (deprecated in MLflow 3): ``champion`` is the model in service,
``challenger`` the latest version that was evaluated but not promoted.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

CHAMPION = "champion"
CHALLENGER = "challenger"

# Explicit requirements: inferring them costs 5-6 s per log_model (FACTS.md).
PIP_REQUIREMENTS = ["scikit-learn", "pandas", "numpy", "scipy"]


@dataclass
class LoggedModel:
    """Where a trained model went in MLflow."""

    run_id: str
    experiment_id: str
    version: str
    model_uri: str


def _mlflow():
    import mlflow

    return mlflow


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
    *,
    experiment_id: str,
    run_name: str,
    registered_model: str,
    model: Any,
    params: dict[str, Any],
    metrics: dict[str, float],
    tags: dict[str, str],
    figures: dict[str, Any],
    documents: dict[str, Any],
    input_example: pd.DataFrame,
    training_data: pd.DataFrame,
    data_digest: str,
) -> LoggedModel:
    """Log one training run (params, metrics, plots, data lineage, model) and register it."""
    import matplotlib.pyplot as plt

    mlflow = _mlflow()
    from mlflow.models import infer_signature

    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=tags) as run:
        mlflow.log_params(params)
        mlflow.log_metrics({k: v for k, v in metrics.items() if v == v})
        for name, figure in figures.items():
            mlflow.log_figure(figure, f"plots/{name}")
            plt.close(figure)  # pyplot keeps every figure open until closed
        for name, document in documents.items():
            mlflow.log_dict(document, name)
        dataset = mlflow.data.from_pandas(
            training_data.head(0), name="training-table", digest=data_digest[:36]
        )
        mlflow.log_input(dataset, context="training")
        signature = infer_signature(input_example, model.predict_proba(input_example))
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=signature,
            input_example=input_example,
            pip_requirements=PIP_REQUIREMENTS,
            registered_model_name=registered_model,
            pyfunc_predict_fn="predict_proba",
            skops_trusted_types=_skops_trusted_types(model),
        )
    return LoggedModel(
        run_id=run.info.run_id,
        experiment_id=experiment_id,
        version=str(info.registered_model_version),
        model_uri=f"models:/{registered_model}/{info.registered_model_version}",
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
