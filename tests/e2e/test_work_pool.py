"""`make up` with RETRAINER_WORK_POOL: the deployments go to a process work pool, and a worker
started apart from the stack, standing in for another machine, executes their runs.

The "other machine" is a process on this one, talking to the servers over loopback. It gets
its own working directory, its own PREFECT_HOME and an environment of its own with two
settings, as the README's "More than one machine" says: the pool's name and RETRAINER_HOME,
the storage every machine shares. The servers' addresses it finds there, where `make up`
wrote them. Nothing of the test's environment leaks in.
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from retrainer.operations import processes, stack
from tests.e2e.conftest import Stack, started_stack

pytestmark = pytest.mark.e2e

POOL = "retrainer-e2e"
WORKER = "machine-b"
FLOWS = {"retrain", "ingest", "promote", "rollback", "predict", "monitor"}
# What a process needs from the machine itself, not from the project.
MACHINE = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR", "PYTHONDONTWRITEBYTECODE", "OMP_NUM_THREADS")


@contextmanager
def worker_on_another_machine(running: Stack, machine: Path) -> Iterator[Path]:
    """`retrainer worker` as another machine would run it; stopped, group and all, after."""
    machine.mkdir()
    env = {k: os.environ[k] for k in MACHINE if k in os.environ} | {
        "HOME": str(machine),
        "PREFECT_HOME": str(machine / "prefect"),  # machine-local: nothing in it is shared
        "RETRAINER_HOME": str(running.home.root),  # the shared storage
        "RETRAINER_WORK_POOL": POOL,
        "PREFECT_WORKER_QUERY_SECONDS": "1",  # the run starts a second after the trigger
    }
    log = machine / "worker.log"
    with open(log, "wb") as out:
        worker = subprocess.Popen(
            [str(Path(sys.executable).with_name("retrainer")), "worker", "--name", WORKER],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=machine,
            start_new_session=True,
        )
    try:
        yield log
    finally:
        processes.stop_group(worker.pid)
        worker.wait()


def _workers(running: Stack) -> set[str]:
    answer = running.post(f"/work_pools/{POOL}/workers/filter", {})
    answer.raise_for_status()
    return {w["name"] for w in answer.json() if w["status"] == "ONLINE"}


def test_a_worker_elsewhere_runs_the_retrain_registered_on_the_pool(tmp_path: Path):
    with started_stack(tmp_path / "shared" / "home", work_pool=POOL) as running:
        assert "serve" not in stack.running(running.home)
        # Every deployment is on the pool, with what `serve` would register.
        deployments = running.post("/deployments/filter", {}).json()
        assert {d["work_pool_name"] for d in deployments} == {POOL}
        flows = {f["id"]: f["name"] for f in running.post("/flows/filter", {}).json()}
        assert {flows[d["flow_id"]] for d in deployments} == FLOWS
        retrain = running.deployment()
        assert retrain["tags"] == ["retrain", "flights"]
        assert retrain["global_concurrency_limit"]["limit"] == 1
        assert [s["schedule"]["cron"] for s in retrain["schedules"]] == ["0 6 * * 1"]
        assert retrain["entrypoint"] == "flows.retrain.retrain" and not retrain["pull_steps"]
        automations = {a["name"] for a in running.post("/automations/filter", {}).json()}
        assert {"retrain-flights-after-landing", "retrain-flights-on-alarm"} <= automations
        # Scheduled runs exist before any worker: they wait for one.
        assert running.runs({"state": {"type": {"any_": ["SCHEDULED"]}}})

        with worker_on_another_machine(running, tmp_path / "machine-b") as log:
            running.wait_until(f"worker {WORKER} online", lambda: WORKER in _workers(running))
            created = running.post(
                f"/deployments/{retrain['id']}/create_flow_run",
                {"parameters": {}, "idempotency_key": "pool-1"},
            )
            assert created.status_code in (200, 201), created.text
            run = running.wait_final(created.json()["id"])
            worker_log = log.read_text(errors="replace")

        assert run["state"]["type"] == "COMPLETED", worker_log[-4000:]
        assert run["work_pool_name"] == POOL
        assert f"Worker '{WORKER}' submitting flow run '{run['id']}'" in worker_log
        mlflow = running.urls.mlflow_ui
        assert f"worker of pool {POOL} on {running.urls.prefect_api}; " in worker_log
        assert f"runs log to MLflow at {mlflow}\n" in worker_log

        # The run logged through the MLflow server, its artifacts on the shared storage.
        (mlflow_run,) = running.http.post(
            f"{mlflow}/api/2.0/mlflow/runs/search",
            json={"experiment_ids": ["1"], "filter": f"tags.prefect_flow_run_id = '{run['id']}'"},
        ).json()["runs"]
        assert mlflow_run["info"]["status"] == "FINISHED"
        assert mlflow_run["info"]["artifact_uri"].startswith(running.home.mlartifacts.as_uri())
        (version,) = running.http.get(
            f"{mlflow}/api/2.0/mlflow/model-versions/search",
            params={"filter": f"run_id = '{mlflow_run['info']['run_id']}'"},
        ).json()["model_versions"]
        assert version["name"] == "flights-delay"
