"""Landing data starts a retrain: `retrainer land` emits events; a burst gives one run."""

import time
from datetime import UTC, datetime

import pytest

from tests.e2e.conftest import QUIET_SECONDS, Stack

pytestmark = pytest.mark.e2e


def test_a_burst_of_landings_starts_one_retrain(running_stack: Stack):
    since = datetime.now(UTC).isoformat()
    started = time.monotonic()
    for month in (3, 4):
        landed = running_stack.cli("land", "--month", str(month), "--every", "25")
        assert landed.returncode == 0, landed.stderr
        assert "sent 1 `retrainer.data.landed` event(s)" in landed.stdout
    burst_seconds = time.monotonic() - started
    assert burst_seconds < QUIET_SECONDS * 2  # each landing falls in the previous one's window

    def started_by_landings() -> list[dict]:
        runs = running_stack.runs({"start_time": {"after_": since}})
        return [r for r in runs if (r.get("created_by") or {}).get("type") == "AUTOMATION"]

    (run,) = running_stack.wait_until("a retrain started by the landings", started_by_landings)
    finished = running_stack.wait_final(run["id"])

    assert finished["state"]["type"] == "COMPLETED", running_stack.log_tail()
    assert finished["created_by"]["display_value"] == "retrain-flights-after-landing"
    assert len(started_by_landings()) == 1
    events = running_stack.post(
        "/events/filter",
        {"filter": {"event": {"name": ["retrainer.data.landed"]}, "occurred": {"since": since}}},
    ).json()["events"]
    assert sorted(e["payload"]["period"] for e in events) == ["2013-03", "2013-04"]
