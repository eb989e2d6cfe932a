"""Never two retrains of a model at once: the second waits its turn and is not lost."""

from datetime import datetime

import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def test_two_triggers_at_once_run_one_after_the_other(running_stack: Stack):
    deployment_id = running_stack.deployment()["id"]
    created = [
        running_stack.post(
            f"/deployments/{deployment_id}/create_flow_run",
            {"parameters": {}, "idempotency_key": f"e2e-concurrent-{i}"},
        )
        for i in (1, 2)
    ]
    assert all(response.status_code == 201 for response in created)

    first, second = sorted(
        (running_stack.wait_final(r.json()["id"]) for r in created),
        key=lambda run: run["start_time"],
    )

    assert first["state"]["type"] == second["state"]["type"] == "COMPLETED"
    assert datetime.fromisoformat(first["end_time"]) <= datetime.fromisoformat(second["start_time"])
    states = running_stack.get(f"/flow_run_states/?flow_run_id={second['id']}")
    assert "AwaitingConcurrencySlot" in {state["name"] for state in states}
