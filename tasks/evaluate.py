"""Evaluation stage: metrics and plots on the held-out test months."""

from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from retrainer.domain.config import RetrainConfig
from retrainer.domain.evaluation import Evaluation, evaluate
from retrainer.domain.features import Split
from retrainer.domain.training import TrainedModel


@task(name="evaluate-model", cache_policy=NO_CACHE)
def evaluate_model(config: RetrainConfig, trained: TrainedModel, split: Split) -> Evaluation:
    """Test-set metrics, confusion matrix, ROC and PR curves, importance; table artifacts."""
    evaluation = evaluate(config, trained.pipeline, trained.threshold, split)
    create_table_artifact(
        key=f"metrics-{config.name}",
        table=[
            {"metric": name, "test": round(value, 4), "validation": round(val, 4)}
            for name, value in evaluation.metrics.items()
            if isinstance(val := trained.validation_metrics.get(name), float)
        ],
        description=f"Test {split.periods['test']}, validation {split.periods['validation']}",
    )
    if evaluation.importance:
        create_table_artifact(
            key=f"feature-importance-{config.name}",
            table=[
                {k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}
                for r in evaluation.importance
            ],
            description="Permutation importance on sampled test rows (drop in ROC AUC)",
        )
    return evaluation
