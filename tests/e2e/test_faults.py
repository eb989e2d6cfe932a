"""The deployed stack under faults: the Prefect server restarted in the middle of a retrain,
and five retrains triggered at once over the API."""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from itertools import pairwise

import pytest
from mlflow import MlflowClient

from retrainer.boundaries.prefect_api import create_run
from retrainer.operations import processes
from retrainer.operations.servers import PREFECT_SERVER, child_environment, servers
from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
MODEL = "flights-delay"
TRIGGERS = 5


def quick_config(stack: Stack) -> dict:
    """The deployment's config with the permutation importance off: a cheaper run."""
    config = stack.deployment()["parameters"]["config"]
    config["evaluation"]["importance_rows"] = 0
    return config


def trigger(stack: Stack, key: str, config: dict, deployment: str | None = None) -> str:
    """Create a run as `retrainer trigger` does (it retries a busy server; same key, one run).

    With ``force``: the data and config are those of earlier runs, and the gate would record
    "no change" without training; each of these runs must train, register and decide.
    """
    deployment_id = deployment or stack.deployment()["id"]
    parameters = {"config": config, "force": True}
    return create_run(deployment_id, parameters, key, stack.urls.prefect_api).id


def decisions(stack: Stack) -> dict[str, str | None]:
    client = MlflowClient(f"sqlite:///{stack.home.mlflow_db}")
    return {
        str(v.version): v.tags.get("promotion.decision")
        for v in client.search_model_versions(f"name = '{MODEL}'")
    }


def restart_prefect_server(stack: Stack) -> None:
    """Stop the Prefect server `make up` started and start it again on the same port and DB."""
    options = stack.options
    (server,) = [s for s in servers(stack.home, options, stack.urls) if s.name == PREFECT_SERVER]
    processes.stop(stack.home, PREFECT_SERVER)
    env = child_environment(stack.home, options, stack.urls)
    processes.spawn(stack.home, PREFECT_SERVER, server.argv, env)
    processes.wait_ready(stack.home, PREFECT_SERVER, server.answers, 180)


def test_a_prefect_server_restarted_mid_run_loses_no_run_and_no_decision(running_stack: Stack):
    before = decisions(running_stack)
    run_id = trigger(running_stack, "e2e-restart", quick_config(running_stack))
    running_stack.wait_until(
        "the retrain to be running",
        lambda: running_stack.get(f"/flow_runs/{run_id}")["state"]["type"] == "RUNNING",
    )

    restart_prefect_server(running_stack)

    run = running_stack.wait_final(run_id)
    assert run["state"]["type"] == "COMPLETED", run["state"]
    after = decisions(running_stack)
    assert len(after) == len(before) + 1 and all(after.values()), after


def test_five_triggers_at_once_all_run_one_after_another_and_every_decision_is_recorded(
    running_stack: Stack,
):
    config, before = quick_config(running_stack), decisions(running_stack)
    deployment = running_stack.deployment()["id"]
    with ThreadPoolExecutor(TRIGGERS) as pool:  # all five requests in flight together
        ids = list(
            pool.map(
                lambda i: trigger(running_stack, f"e2e-20-{i}", config, deployment), range(TRIGGERS)
            )
        )

    runs = [running_stack.wait_final(run_id) for run_id in ids]

    assert len(set(ids)) == TRIGGERS  # none lost, none merged
    assert [r["state"]["type"] for r in runs] == ["COMPLETED"] * TRIGGERS
    spans = sorted((r["start_time"], r["end_time"]) for r in runs)
    for (_, end), (start, _) in pairwise(spans):
        assert datetime.fromisoformat(end) <= datetime.fromisoformat(start)  # one at a time
    after = decisions(running_stack)
    assert len(after) == len(before) + TRIGGERS
    assert all(after.values()), after  # every version has its decision
    champion = MlflowClient(f"sqlite:///{running_stack.home.mlflow_db}").get_model_version_by_alias(
        MODEL, "champion"
    )
    assert after[str(champion.version)] == "promoted"
