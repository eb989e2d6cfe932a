"""The loop's config: monitoring thresholds in the flow parameter, triggers in `deployment:`."""

import re

import pytest

from deployments.loop import alarm_trigger, predictions_trigger
from retrainer.domain.config import ConfigError, load_config, load_dataset


def test_defaults_keep_old_config_files_working(edited_config):
    dataset = load_dataset(edited_config(lambda c: (c.pop("deployment"), c.pop("monitoring"))))

    assert dataset.config.monitoring.metric == "roc_auc"
    assert dataset.config.monitoring.expected_drift == []
    assert dataset.deployment.retrain_on_alarm.enabled
    assert dataset.deployment.retrain_on_alarm.cooldown_seconds == 86400
    assert dataset.deployment.monitor.cron == "0 7 * * *"


def test_the_alarm_trigger_carries_the_cooldown_and_names_the_event(edited_config):
    path = edited_config(
        lambda c: c["deployment"].update(retrain_on_alarm={"cooldown_seconds": 600})
    )
    trigger = alarm_trigger(load_dataset(path))

    assert trigger.within.total_seconds() == 600 and trigger.threshold == 1
    assert trigger.parameters == {"trigger": "drift:{{ event.id }}"}
    assert trigger.match.model_dump() == {"prefect.resource.id": "retrainer.dataset.flights"}
    assert predictions_trigger(load_dataset(path)).parameters == {
        "period": "{{ event.payload.period }}"
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["monitoring"].update(psi_threshold=-1), "monitoring.psi_threshold"),
        (lambda c: c["monitoring"].update(metric="log_loss"), "monitoring.metric"),
        (lambda c: c["monitoring"].update(p_value=2), "less than 1"),
        (
            lambda c: c["deployment"].update(retrain_on_alarm={"cooldown_seconds": 1}),
            "deployment.retrain_on_alarm.cooldown_seconds",
        ),
    ],
)
def test_bad_loop_settings_are_named(edited_config, change, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(edited_config(change))
