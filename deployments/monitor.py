"""The monitor deployment: daily, and after each prediction batch (per period written)."""

from prefect.deployments.runner import RunnerDeployment

from deployments.common import config_deployment
from deployments.loop import predictions_trigger
from deployments.retrain import ONE_AT_A_TIME
from flows.monitor import monitor
from retrainer.domain.config import DataSet


def monitor_deployment(dataset: DataSet) -> RunnerDeployment:
    """``monitor/<data set>``: drift and performance of the champion's predictions."""
    config = dataset.config
    what = f"`{config.mlflow.registered_model}` on `{config.name}`"
    return config_deployment(
        monitor,
        dataset,
        dataset.deployment.monitor,
        description=f"Monitor {what}: drift, delayed labels, performance; alarms retrain.",
        triggers=[predictions_trigger(dataset)],
        concurrency_limit=ONE_AT_A_TIME,
        tags=["monitor", config.name],
    )
