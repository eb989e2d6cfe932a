"""The retrain deployment as the Prefect UI shows it: one schedule, a short custom-run form.

Here rather than in the unit tier: building a deployment runs a subprocess inside Prefect.
"""

import pytest

from deployments.retrain import retrain_deployment
from retrainer.boundaries.settings import config_path
from retrainer.domain.config import load_dataset

pytestmark = pytest.mark.flow


def test_the_custom_run_form_lists_the_run_choices_before_the_whole_config():
    deployment = retrain_deployment(load_dataset(config_path("flights")))

    fields = deployment._parameter_openapi_schema.properties
    order = sorted(fields, key=lambda name: fields[name]["position"])
    # The short form first, the whole config last; `force` and `trigger` (set by the alarm
    # automation) are single fields between them.
    assert order[0] == "choices" and order[-1] == "config", order
    assert [s.schedule.cron for s in deployment.schedules] == ["0 6 * * 1"]  # one, not two
