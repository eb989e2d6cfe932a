"""The retrain deployment: weekly by cron, on demand over the API, and after data lands."""

from datetime import timedelta

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment
from prefect.events import DeploymentEventTrigger
from prefect.events.schemas.automations import Posture

from deployments.common import config_deployment
from deployments.loop import alarm_trigger
from flows.retrain import retrain
from retrainer.boundaries.prefect_api import LANDED, dataset_resource_id
from retrainer.domain.config import DataSet

# One retrain of a model at a time; a run that finds the slot taken waits in
# AwaitingConcurrencySlot and starts after the running one, instead of being dropped.
ONE_AT_A_TIME = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE)


def landing_trigger(dataset: DataSet) -> DeploymentEventTrigger:
    """Start a retrain once data stopped landing for ``landing_quiet_seconds``."""
    config, quiet = dataset.config, dataset.deployment.landing_quiet_seconds
    return DeploymentEventTrigger(
        name=f"retrain-{config.name}-after-landing",
        description=f"Retrain {config.name} {quiet} s after the last `{LANDED}` event",
        enabled=dataset.deployment.retrain_on_landing,
        # The same event as `after` and `expect`, proactive: every landing restarts the
        # window and the automation fires when a window passes without one, so a burst of
        # landings gives one run after the burst. A reactive trigger would fire on the
        # first file and train without the rest.
        after={LANDED},
        expect={LANDED},
        posture=Posture.Proactive,
        threshold=1,
        within=timedelta(seconds=quiet),
        match={"prefect.resource.id": dataset_resource_id(config.name)},
        # Buckets open only on a landing; without for_each the server keeps one bucket
        # open at all times and fires on every quiet window, landing or not.
        for_each={"prefect.resource.id"},
    )


def retrain_deployment(dataset: DataSet) -> RunnerDeployment:
    """``retrain/<data set>``: weekly, on demand, after landings; one run at a time."""
    config = dataset.config
    return config_deployment(
        retrain,
        dataset,
        dataset.deployment.retrain,
        description=(
            f"Retrain `{config.mlflow.registered_model}` on data set `{config.name}`; "
            f"promote only if it beats the champion on {config.promotion.metric}. "
            f"Runs on cron `{dataset.deployment.retrain.cron}` ({dataset.deployment.timezone}), "
            "after new data lands, and on demand (Run > Custom run: the run's choices first)."
        ),
        triggers=[landing_trigger(dataset), alarm_trigger(dataset)],
        concurrency_limit=ONE_AT_A_TIME,
        tags=["retrain", config.name],
    )
