"""A retrain started over the API: `retrainer trigger`, and the same call with plain HTTP."""

import re

import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def test_a_triggered_retrain_completes_and_both_uis_show_it(running_stack: Stack):
    result = running_stack.cli(
        "trigger", "--wait", "--param", "model.params.max_iter=60", "--idempotency-key", "e2e-1"
    )

    assert result.returncode == 0, result.stdout + result.stderr + running_stack.log_tail()
    run_id = re.search(r"\(([0-9a-f-]{36})\)", result.stdout).group(1)
    run = running_stack.get(f"/flow_runs/{run_id}")
    assert run["state"]["type"] == "COMPLETED"
    assert re.fullmatch(r"retrain-flights-2013-04 #\d+", run["name"])
    assert run["parameters"]["config"]["model"]["params"]["max_iter"] == 60  # merged, not replaced
    assert f"{running_stack.urls.prefect_ui}/runs/flow-run/{run_id}" in result.stdout
    assert "Completed; started" in result.stdout

    # The MLflow server shows what the flow logged straight to the database.
    mlflow = running_stack.urls.mlflow_ui
    (mlflow_run,) = running_stack.http.post(
        f"{mlflow}/api/2.0/mlflow/runs/search",
        json={
            "experiment_ids": ["1"],
            "filter": f"tags.prefect_flow_run_id = '{run_id}'",
        },
    ).json()["runs"]
    params = {p["key"]: p["value"] for p in mlflow_run["data"]["params"]}
    assert params["model.max_iter"] == "60"
    assert mlflow_run["info"]["run_name"].startswith(f"{run['name']} v")
    assert mlflow_run["info"]["artifact_uri"].startswith(running_stack.home.mlartifacts.as_uri())
    mlflow_run_id = mlflow_run["info"]["run_id"]
    (version,) = running_stack.http.get(
        f"{mlflow}/api/2.0/mlflow/model-versions/search",
        params={"filter": f"run_id = '{mlflow_run_id}'"},
    ).json()["model_versions"]
    assert version["name"] == "flights-delay"
    assert {t["key"] for t in version["tags"]} >= {"promotion.decision", "promotion.reason"}
    listed = running_stack.http.get(
        f"{mlflow}/api/2.0/mlflow/artifacts/list", params={"run_id": mlflow_run_id}
    ).json()
    assert {"config.json", "plots"} <= {f["path"] for f in listed["files"]}
    assert f"{mlflow}/#/models/flights-delay/versions/{version['version']}" in result.stdout

    # The same idempotency key over plain HTTP is the same run, not a second retrain.
    again = running_stack.post(
        f"/deployments/{running_stack.deployment()['id']}/create_flow_run",
        {"parameters": {}, "idempotency_key": "e2e-1"},
    )
    assert again.status_code in (200, 201) and again.json()["id"] == run_id


def test_bad_parameters_get_a_message_not_a_traceback(running_stack: Stack):
    result = running_stack.cli("trigger", "--param", "split.test_months=0", "-p", "modle.x=1")

    assert result.returncode == 2
    assert "split.test_months: Input should be greater than or equal to 1" in result.stderr
    assert "modle: Extra inputs are not permitted" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout

    # Straight to the API, past the CLI's check, the server refuses it too.
    refused = running_stack.post(
        f"/deployments/{running_stack.deployment()['id']}/create_flow_run",
        {"parameters": {"config": {"name": "flights"}}, "idempotency_key": "e2e-bad"},
    )
    assert refused.status_code == 409
    assert "'sources' is a required property" in refused.json()["detail"]
