"""The deployments as registered: cron schedules that really produce runs, limits, triggers.

The scheduled-runs check is the one that catches a broken SQLAlchemy pin: with SQLAlchemy
2.1 Prefect's scheduler silently never creates runs for cron schedules ("Can't evaluate bulk
DML statement" in the server log).
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import QUIET_SECONDS, Stack

pytestmark = pytest.mark.e2e

NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("flow", "weekday", "hour"),
    [("retrain", 0, 6), ("ingest", None, 5)],  # Mondays 06:00; daily 05:00
)
def test_the_cron_deployment_gets_its_scheduled_runs(
    running_stack: Stack, flow: str, weekday: int | None, hour: int
):
    deployment = running_stack.deployment(flow)
    (schedule,) = deployment["schedules"]
    assert schedule["active"] and schedule["schedule"]["timezone"] == "America/New_York"

    scheduled = running_stack.wait_until(
        f"scheduled runs of {flow}/flights; none at all means Prefect's scheduler is broken "
        "(it is with SQLAlchemy 2.1)",
        lambda: running_stack.runs(
            {"state": {"type": {"any_": ["SCHEDULED"]}}, "tags": {"all_": ["auto-scheduled"]}},
            flow=flow,
        ),  # triggered runs still queued behind the one-at-a-time limit are SCHEDULED too
        timeout=60,
    )

    times = [datetime.fromisoformat(run["expected_start_time"]) for run in scheduled]
    assert len(times) >= 3 and all(t > datetime.now(NEW_YORK) for t in times)
    for when in (t.astimezone(NEW_YORK) for t in times):
        assert (when.hour, when.minute) == (hour, 0)
        assert weekday is None or when.weekday() == weekday


def test_retrain_runs_one_at_a_time_and_starts_after_landings(running_stack: Stack):
    deployment = running_stack.deployment("retrain")
    assert deployment["global_concurrency_limit"]["limit"] == 1
    assert deployment["concurrency_options"]["collision_strategy"] == "ENQUEUE"

    automations = running_stack.get(
        f"/automations/related-to/prefect.deployment.{deployment['id']}"
    )
    # The landing automation; the alarm automation (tests/e2e/test_alarms.py) is the other.
    names = {a["name"] for a in automations}
    assert names == {"retrain-flights-after-landing", "retrain-flights-on-alarm"}
    (automation,) = [a for a in automations if a["name"] == "retrain-flights-after-landing"]
    trigger = automation["trigger"]
    assert automation["enabled"]
    assert trigger["posture"] == "Proactive" and trigger["within"] == QUIET_SECONDS
    assert trigger["after"] == trigger["expect"] == ["retrainer.data.landed"]
    assert trigger["match"] == {"prefect.resource.id": "retrainer.dataset.flights"}
    assert automation["actions"][0]["type"] == "run-deployment"
