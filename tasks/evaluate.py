"""Evaluation stage: metrics and plots on the held-out test months."""

from dataclasses import dataclass
from typing import Any

from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from retrainer.config import RetrainConfig
from retrainer.evaluation import (
    classification_metrics,
    permutation_importance_table,
    plot_curves,
    plot_importance,
)
from retrainer.features import Split
from tasks.train import TrainedModel, model_inputs


@dataclass
class Evaluation:
    """Test metrics, figures and permutation importance of one model."""

    metrics: dict
    figures: dict[str, Any]
    importance: list[dict]


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
    importance = explain(config, trained, split)
    if importance:
        figures["permutation_importance.png"] = plot_importance(importance)
        create_table_artifact(
            key=f"feature-importance-{config.name}",
            table=[
                {k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}
                for r in importance
            ],
            description="Permutation importance on sampled test rows (drop in ROC AUC)",
        )
    return Evaluation(metrics=metrics, figures=figures, importance=importance)


def explain(config: RetrainConfig, trained: TrainedModel, split: Split) -> list[dict]:
    """Permutation importance on a sample of the test rows (empty when switched off)."""
    rows = min(config.evaluation.importance_rows, len(split.test))
    if rows == 0:
        return []
    sample = model_inputs(config, split.test.sample(rows, random_state=config.model.seed))
    label = config.target.name
    return permutation_importance_table(
        trained.pipeline,
        sample.drop(columns=[label]),
        sample[label].to_numpy(),
        config.evaluation.importance_repeats,
        config.model.seed,
    )
