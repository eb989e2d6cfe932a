"""Closing the loop: a monitoring alarm starts a retrain, at most one per cooldown.

A reactive trigger fires on the first ``retrainer.monitor.alarm`` of a data set and then,
by Prefect's bucketing, ignores that data set's alarms until ``cooldown_seconds`` after
the bucket it fired in closed: a burst of alarms starts one retrain, and none starts
within the cooldown. The retrain is the ordinary one, through the same promotion gate.
"""

from datetime import timedelta
from typing import Any

from prefect.events import DeploymentEventTrigger
from prefect.events.schemas.automations import Posture

from retrainer.boundaries.prefect_api import ALARM, PREDICTED, dataset_resource_id
from retrainer.domain.config import DataSet


def _on_event(event: str, dataset: DataSet, window: timedelta, **options: Any):
    """A reactive trigger on the data set's ``event``: the first one fires, then ``window``."""
    resource = dataset_resource_id(dataset.config.name)
    return DeploymentEventTrigger(
        expect={event},
        posture=Posture.Reactive,
        threshold=1,
        within=window,
        match={"prefect.resource.id": resource},
        for_each={"prefect.resource.id"},
        **options,
    )


def alarm_trigger(dataset: DataSet) -> DeploymentEventTrigger:
    """Start a retrain on an alarm, tagged ``drift:<event id>``; none within the cooldown."""
    name, settings = dataset.config.name, dataset.deployment.retrain_on_alarm
    return _on_event(
        ALARM,
        dataset,
        timedelta(seconds=settings.cooldown_seconds),
        name=f"retrain-{name}-on-alarm",
        description=f"Retrain {name} on `{ALARM}`, once per {settings.cooldown_seconds} s",
        enabled=settings.enabled,
        parameters={"trigger": "drift:{{ event.id }}"},
    )


def predictions_trigger(dataset: DataSet) -> DeploymentEventTrigger:
    """Monitor each period a prediction batch wrote, as soon as it is written."""
    name = dataset.config.name
    return _on_event(
        PREDICTED,
        dataset,
        timedelta(0),  # every event: one monitoring run per period written
        name=f"monitor-{name}-after-predictions",
        description=f"Monitor the period of each `{PREDICTED}` event of {name}",
        parameters={"period": "{{ event.payload.period }}"},
    )
