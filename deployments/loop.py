"""Closing the loop: a monitoring alarm starts a retrain, at most one per cooldown.

A reactive trigger fires on the first ``retrainer.monitor.alarm`` of a data set and then,
by Prefect's bucketing, ignores that data set's alarms until ``alarm_cooldown_seconds`` after
the bucket it fired in closed: a burst of alarms starts one retrain, and none starts
within the cooldown. The retrain is the ordinary one, through the same promotion gate.
"""

from datetime import timedelta

from prefect.events import DeploymentEventTrigger
from prefect.events.schemas.automations import Posture

from retrainer.boundaries.prefect_api import ALARM, PREDICTED, dataset_resource_id
from retrainer.domain.config import DataSet


def alarm_trigger(dataset: DataSet) -> DeploymentEventTrigger:
    """Start a retrain on an alarm, tagged ``drift:<event id>``; none within the cooldown."""
    config, cooldown = dataset.config, dataset.deployment.alarm_cooldown_seconds
    return DeploymentEventTrigger(
        name=f"retrain-{config.name}-on-alarm",
        description=f"Retrain {config.name} on `{ALARM}`, at most once per {cooldown} s",
        enabled=dataset.deployment.retrain_on_alarm,
        expect={ALARM},
        posture=Posture.Reactive,
        threshold=1,
        within=timedelta(seconds=cooldown),
        match={"prefect.resource.id": dataset_resource_id(config.name)},
        for_each={"prefect.resource.id"},
        parameters={"trigger": "drift:{{ event.id }}"},
    )


def predictions_trigger(dataset: DataSet) -> DeploymentEventTrigger:
    """Monitor each period a prediction batch wrote, as soon as it is written."""
    config = dataset.config
    return DeploymentEventTrigger(
        name=f"monitor-{config.name}-after-predictions",
        description=f"Monitor the period of each `{PREDICTED}` event of {config.name}",
        expect={PREDICTED},
        posture=Posture.Reactive,
        threshold=1,
        within=timedelta(0),
        match={"prefect.resource.id": dataset_resource_id(config.name)},
        parameters={"period": "{{ event.payload.period }}"},
    )
