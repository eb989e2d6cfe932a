"""Promote and rollback as deployments, started over the Prefect API; MLflow shows the moves."""

import json

import pytest
from mlflow import MlflowClient

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e
MODEL = "e2e-hand-moves"  # a model of its own: the other tests' champion stays untouched


def test_promote_and_rollback_over_the_api(running_stack: Stack):
    registry = MlflowClient(tracking_uri=f"sqlite:///{running_stack.home.mlflow_db}")
    registry.create_registered_model(MODEL)
    for _ in range(2):
        registry.create_model_version(MODEL, "file:///nowhere")
    registry.set_registered_model_alias(MODEL, "champion", "1")

    # `retrainer trigger` over the API, with the flow's own parameters ...
    promoted = running_stack.cli(
        "trigger",
        "--flow",
        "promote",
        "--wait",
        "--arg",
        f"model={MODEL}",
        "--arg",
        "version=2",
        "--arg",
        "reason=checked by hand",
        "--arg",
        "requested_by=e2e",
    )
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr + running_stack.log_tail()
    assert "Completed" in promoted.stdout

    # ... and the same with plain HTTP.
    rollback_id = running_stack.deployment("rollback")["id"]
    created = running_stack.post(
        f"/deployments/{rollback_id}/create_flow_run",
        {"parameters": {"model": MODEL, "reason": "v2 looked wrong"}, "idempotency_key": "e2e-rb"},
    )
    assert created.status_code == 201, created.text
    run = running_stack.wait_final(created.json()["id"])
    assert run["state"]["type"] == "COMPLETED", running_stack.log_tail()
    unsaid = running_stack.post(
        f"/deployments/{rollback_id}/create_flow_run",
        {"parameters": {"model": MODEL}, "idempotency_key": "e2e-rb-no-reason"},
    )
    assert unsaid.status_code == 409 and "'reason' is a required property" in unsaid.text

    # The MLflow server shows where the champion is and every move, with why and by whom.
    found = running_stack.http.get(
        f"{running_stack.urls.mlflow_ui}/api/2.0/mlflow/registered-models/get",
        params={"name": MODEL},
    ).json()["registered_model"]
    assert {a["alias"]: a["version"] for a in found["aliases"]} == {"champion": "1"}
    moves = [
        json.loads(tag["value"]) for tag in found["tags"] if tag["key"].startswith("alias_history.")
    ]
    assert [(m["action"], m["from_version"], m["to_version"], m["by"]) for m in moves] == [
        ("promote", "1", "2", "e2e"),
        ("rollback", "2", "1", f"flow run {run['name']}"),
    ]
    assert [m["reason"] for m in moves] == ["checked by hand", "v2 looked wrong"]
