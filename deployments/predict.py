"""The predict deployment: score new records once data stopped landing, or on demand."""

from prefect.deployments.runner import RunnerDeployment

from deployments.common import config_deployment
from deployments.retrain import ONE_AT_A_TIME, landing_trigger
from flows.predict import predict
from retrainer.domain.config import DataSet, ScheduleConfig


def predict_deployment(dataset: DataSet) -> RunnerDeployment:
    """``predict/<data set>``: after each burst of landings (the retrain's debounce)."""
    config = dataset.config
    after_landing = landing_trigger(dataset).model_copy(
        update={
            "name": f"predict-{config.name}-after-landing",
            "description": f"Score {config.name}'s new records once the landings stop",
            "enabled": dataset.deployment.predict_on_landing,
        }
    )
    return config_deployment(
        predict,
        dataset,
        ScheduleConfig(cron=None),
        description=f"Score new records of `{config.name}` with the champion into the lake.",
        triggers=[after_landing],
        concurrency_limit=ONE_AT_A_TIME,
        tags=["predict", config.name],
    )
