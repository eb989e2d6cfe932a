"""The loop: a monitoring alarm starts one retrain through the automation; a second alarm
inside the cooldown starts none; the retrain says what triggered it."""

import time
import uuid
from datetime import UTC, datetime

import mlflow
import pytest

from retrainer.boundaries import demo
from retrainer.boundaries.prefect_api import ALARM, dataset_resource_id
from tests.e2e.conftest import SAMPLE_EVERY, Stack

pytestmark = pytest.mark.e2e

AUTOMATION = "retrain-flights-on-alarm"


def send_alarm(stack: Stack) -> str:
    """POST a `retrainer.monitor.alarm` event, as the monitor flow emits it; its id."""
    event_id = str(uuid.uuid4())
    response = stack.post(
        "/events",
        [
            {
                "id": event_id,
                "occurred": datetime.now(UTC).isoformat(),
                "event": ALARM,
                "resource": {
                    "prefect.resource.id": dataset_resource_id("flights"),
                    "prefect.resource.name": "flights",
                },
                "payload": {
                    "dataset": "flights",
                    "period": "2013-04",
                    "alarms": [{"kind": "data_drift", "detail": "test"}],
                },
            }
        ],
    )
    assert response.status_code in (200, 201, 204), response.text
    return event_id


def test_one_alarm_one_retrain_and_none_within_the_cooldown(running_stack: Stack):
    # New April flights land first (another sample of the month, no event): on data a
    # version already trained on, a retrain stops at "no change" and registers nothing.
    demo.land_month(running_stack.home.landing, 4, every=SAMPLE_EVERY - 1)
    since = datetime.now(UTC).isoformat()

    def started_by_alarms() -> list[dict]:
        runs = running_stack.runs({"expected_start_time": {"after_": since}})
        return [r for r in runs if (r.get("created_by") or {}).get("display_value") == AUTOMATION]

    sent = time.monotonic()
    first = send_alarm(running_stack)
    (run,) = running_stack.wait_until("a retrain started by the alarm", started_by_alarms)
    reaction = time.monotonic() - sent
    assert run["parameters"]["trigger"] == f"drift:{first}"
    sent = time.monotonic()
    second = send_alarm(running_stack)  # inside the cooldown (a day in the demo config)
    finished = running_stack.wait_final(run["id"])
    # The retrain's own duration is the window in which a second run would have appeared.
    assert time.monotonic() - sent > 2 * reaction, "the window was too short to tell"

    assert finished["state"]["type"] == "COMPLETED", running_stack.log_tail()
    events = running_stack.post(
        "/events/filter",
        {"filter": {"event": {"name": [ALARM]}, "occurred": {"since": since}}},
    ).json()["events"]
    assert {e["id"] for e in events} == {first, second}  # the server has both alarms ...
    assert [r["id"] for r in started_by_alarms()] == [run["id"]]  # ... and started one run

    # The decision record says what triggered the retrain: the version's and the run's tags.
    client = mlflow.MlflowClient(f"sqlite:///{running_stack.home.mlflow_db}")
    (logged,) = client.search_runs(
        [client.get_experiment_by_name("flights-delay").experiment_id],
        filter_string=f"tags.prefect_flow_run_id = '{run['id']}'",
    )
    assert logged.data.tags["retrain.trigger"] == f"drift:{first}"
    (version,) = client.search_model_versions(f"run_id = '{logged.info.run_id}'")
    assert version.tags["retrain.trigger"] == f"drift:{first}"
    assert version.tags["promotion.decision"] in {"promoted", "rejected"}


def test_the_loop_deployments_and_automations_are_served(running_stack: Stack):
    for flow in ("predict", "monitor"):
        assert running_stack.deployment(flow)["name"] == "flights"
    automations = running_stack.post("/automations/filter", {}).json()
    enabled = {a["name"]: a["enabled"] for a in automations}
    assert enabled[AUTOMATION] is True
    assert enabled["monitor-flights-after-predictions"] is True
    assert enabled["predict-flights-after-landing"] is False  # switched off in this config
    schedule = running_stack.deployment("monitor")["schedules"][0]["schedule"]
    assert schedule["cron"] == "0 7 * * *"
