"""Evaluation stage: metrics, interval, slices and plots on the held-out test rows."""

from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from retrainer.domain.config import RetrainConfig
from retrainer.domain.evaluation import Evaluation, evaluate
from retrainer.domain.features import Split
from retrainer.domain.training import TrainedModel


def _rounded(rows: list[dict]) -> list[dict]:
    return [{k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()} for r in rows]


@task(name="evaluate-model", cache_policy=NO_CACHE)
def evaluate_model(config: RetrainConfig, trained: TrainedModel, split: Split) -> Evaluation:
    """Test metrics with the headline metric's interval, slices, plots, importance; tables."""
    evaluation = evaluate(config, trained.pipeline, trained.threshold, split)
    metric, m, cv = config.promotion.metric, evaluation.metrics, trained.cv
    create_table_artifact(
        key=f"metrics-{config.name}",
        table=[
            {"metric": name, "test": round(value, 4), "cross_validation": round(val, 4)}
            for name, value in m.items()
            if isinstance(val := trained.validation_metrics.get(name), float)
        ],
        description=(
            f"Test {split.periods['test']}: {metric} {m[metric]:.4f} "
            f"({config.evaluation.confidence:.0%} bootstrap interval {m[f'{metric}_ci_low']:.4f}"
            f"-{m[f'{metric}_ci_high']:.4f}). Cross-validation: out-of-fold predictions on "
            f"{split.periods['validation']}, {metric} {cv['mean']:.4f} +/- {cv['std']:.4f} "
            f"over {len(cv['folds'])} folds"
        ),
    )
    if evaluation.slices:
        create_table_artifact(
            key=f"slices-{config.name}",
            table=_rounded(evaluation.slices),
            description=f"Test {metric} per value of {', '.join(config.evaluation.slices)}",
        )
    if evaluation.importance:
        create_table_artifact(
            key=f"feature-importance-{config.name}",
            table=_rounded(evaluation.importance),
            description=f"Permutation importance on test rows: drop in {evaluation.scoring}",
        )
    return evaluation
