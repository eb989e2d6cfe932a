"""Training stage: fit the configured Pipeline and choose its decision threshold."""

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from retrainer.domain.config import RetrainConfig
from retrainer.domain.features import Split
from retrainer.domain.training import TrainedModel, train


@task(name="train-model", cache_policy=NO_CACHE)
def train_model(config: RetrainConfig, split: Split) -> TrainedModel:
    """Fit on train, pick the F1-best threshold on validation, refit on train + validation."""
    trained = train(config, split)
    get_run_logger().info(
        "validation roc_auc %.4f; threshold %.3f",
        trained.validation_metrics["roc_auc"],
        trained.threshold,
    )
    return trained
