"""The config's `deployment:` section: defaults keep old files working; mistakes say what."""

import re

import pytest

from retrainer.boundaries.settings import config_path
from retrainer.domain.config import ConfigError, DeploymentConfig, load_config, load_dataset


def test_a_config_without_the_section_gets_weekly_retrain_and_daily_ingest(edited_config):
    config = load_dataset(edited_config(lambda c: c.pop("deployment")))

    assert config.deployment == DeploymentConfig()
    assert config.deployment.retrain.cron == "0 6 * * 1"
    assert config.deployment.ingest.cron == "0 5 * * *"
    assert config.deployment.retrain_on_landing


def test_the_demo_config_schedules_in_new_york_time():
    assert load_dataset(config_path("flights")).deployment.timezone == "America/New_York"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"retrain": {"cron": "0 6 * *"}}, "needs 5 fields"),
        ({"landing_quiet_seconds": 5}, "greater than or equal to 10"),
        ({"retrain": {"crom": "0 6 * * 1"}}, "crom"),
    ],
)
def test_bad_sections_are_named(edited_config, section, message):
    path = edited_config(lambda c: c.update(deployment=section))

    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(path)


def test_on_demand_only_and_macros_are_accepted(edited_config):
    path = edited_config(
        lambda c: c.update(deployment={"retrain": {"cron": None}, "ingest": {"cron": "@daily"}}),
    )

    config = load_dataset(path)

    assert config.deployment.retrain.cron is None
    assert config.deployment.ingest.cron == "@daily"
