"""The model in service: the ``champion`` version (or a named one), loaded with what it learnt.

Scoring and monitoring need more than the pipeline: its decision threshold, the months it
was trained and tested on, and its test metrics, all read from the run that logged it.
"""

from typing import Any

from retrainer.boundaries import tracking
from retrainer.domain.config import RetrainConfig
from retrainer.domain.scoring import ModelInService


class NoChampionError(RuntimeError):
    """The registered model has no ``champion`` yet: nothing to score or monitor with."""


def _months(value: str | None) -> list[str]:
    return [m for m in (value or "").split(",") if m]


def describe(config: RetrainConfig, tracking_uri: str, version: str | None) -> ModelInService:
    """The version named, or the champion: threshold, months and test metrics from its run."""
    tracking.connect(tracking_uri)
    name = config.mlflow.registered_model
    version = version or tracking.alias_version(name, tracking.CHAMPION)
    if version is None:
        raise NoChampionError(
            f"{name} has no '{tracking.CHAMPION}' in {tracking_uri}: train one first "
            "(`retrainer run`)"
        )
    found = tracking.model_version(name, version)
    if found is None:
        raise NoChampionError(f"{name} has no version {version} in {tracking_uri}")
    run = tracking.run_record(found.run_id)
    return ModelInService(
        model=name,
        version=version,
        threshold=float(run.params.get("threshold", 0.5)),
        trained_on=_months(run.params.get("train_months"))
        + _months(run.params.get("validation_months")),
        test_months=_months(run.params.get("test_months")),
        test_metrics={
            k.removeprefix("test_"): v for k, v in run.metrics.items() if k.startswith("test_")
        },
    )


def load(model: ModelInService) -> Any:
    """The version's fitted scikit-learn pipeline."""
    return tracking.load_model(model.model, model.version)
