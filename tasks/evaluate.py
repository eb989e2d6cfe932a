"""Evaluation stage: metrics and plots on the held-out test months."""

from dataclasses import dataclass
from typing import Any

from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from retrainer.config import RetrainConfig
from retrainer.evaluation import classification_metrics, plot_curves
from retrainer.features import Split
from tasks.train import TrainedModel, model_inputs


@dataclass
class Evaluation:
    """Test metrics and figures of one model."""

    metrics: dict
    figures: dict[str, Any]


def test_predictions(config: RetrainConfig, model: Any, split: Split) -> tuple[Any, Any]:
    """Labels and predicted probabilities of any fitted model on the test rows."""
    test = model_inputs(config, split.test)
    label = config.target.name
    return test[label].to_numpy(), model.predict_proba(test.drop(columns=[label]))[:, 1]


@task(name="evaluate-model", cache_policy=NO_CACHE)
def evaluate_model(config: RetrainConfig, trained: TrainedModel, split: Split) -> Evaluation:
    """Test-set metrics, confusion matrix, ROC and PR curves; a metrics table artifact."""
    y_true, proba = test_predictions(config, trained.pipeline, split)
    metrics = classification_metrics(y_true, proba, trained.threshold)
    figures = plot_curves(y_true, proba, trained.threshold)
    create_table_artifact(
        key=f"metrics-{config.name}",
        table=[
            {"metric": name, "test": round(value, 4), "validation": round(val, 4)}
            for name, value in metrics.items()
            if isinstance(val := trained.validation_metrics.get(name), float)
        ],
        description=f"Test {split.periods['test']}, validation {split.periods['validation']}",
    )
    return Evaluation(metrics=metrics, figures=figures)
