"""End-to-end tier: the stack `make up` starts, on free ports, in a temporary RETRAINER_HOME.

One fixture starts it once for the tier (a real `prefect server` with its own PREFECT_HOME
and SQLite database, the MLflow server, the serve process) and stops it at the end, process
groups and all. Tests drive it as a user would: the `retrainer` CLI, the HTTP API, events.
"""

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from retrainer.boundaries import demo
from retrainer.boundaries.settings import Home, config_path
from retrainer.operations import processes, stack

SAMPLE_EVERY = 25  # about 1,000 flights a month: a real, quick training set
SAMPLE_MONTHS = (1, 2, 3, 4)
QUIET_SECONDS = 10  # landing debounce of the e2e config (Prefect's minimum)
RUN_TIMEOUT = 240.0


@dataclass
class Stack:
    """The running stack and how to talk to it."""

    home: Home
    urls: stack.StackUrls
    config: Path
    http: httpx.Client
    options: stack.StackOptions | None = None

    def get(self, path: str) -> Any:
        """GET on the Prefect API; the JSON answer."""
        response = self._request("GET", path)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict) -> httpx.Response:
        """POST on the Prefect API."""
        return self._request("POST", path, body)

    def _request(self, method: str, path: str, body: dict | None = None) -> httpx.Response:
        # 503 is Prefect's "SQLite was busy, try again"; its own client retries it, so do we.
        # A read that times out is the same busy server (retrains writing beside a burst of
        # requests): asked again too, the last failure raised.
        for attempt in range(6):
            try:
                response = self.http.request(method, f"{self.urls.prefect_api}{path}", json=body)
            except httpx.TimeoutException:
                if attempt == 5:
                    raise
            else:
                if response.status_code != 503:
                    break
            time.sleep(0.2 * 2**attempt)
        return response

    def deployment(self, flow: str = "retrain", name: str = "flights") -> dict:
        """A deployment by flow and name."""
        return self.get(f"/deployments/name/{flow}/{name}")

    def runs(self, flow_runs: dict | None = None, flow: str = "retrain") -> list[dict]:
        """Runs of a deployment, oldest first, filtered by ``flow_runs`` criteria."""
        body = {
            "deployments": {"id": {"any_": [self.deployment(flow)["id"]]}},
            "flow_runs": flow_runs or {},
            "sort": "EXPECTED_START_TIME_ASC",
        }
        response = self.post("/flow_runs/filter", body)
        response.raise_for_status()
        return response.json()

    def wait_until(self, what: str, probe: Callable[[], Any], timeout: float = RUN_TIMEOUT) -> Any:
        """Poll ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = probe()
            if found:
                return found
            time.sleep(0.5)
        pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{self.log_tail()}")

    def wait_final(self, run_id: str) -> dict:
        """The run, once it reached a final state."""
        final = {"COMPLETED", "FAILED", "CANCELLED", "CRASHED"}
        return self.wait_until(
            f"run {run_id} to finish",
            lambda: (run := self.get(f"/flow_runs/{run_id}"))["state"]["type"] in final and run,
        )

    def cli(self, *args: str, timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess:
        """Run ``retrainer *args`` as a user would, against this stack's home."""
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"PREFECT_API_URL", "PREFECT_HOME", "MLFLOW_TRACKING_URI"}
        }
        env["RETRAINER_HOME"] = str(self.home.root)
        return subprocess.run(
            [str(Path(sys.executable).with_name("retrainer")), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the serve process's log, for failure messages."""
        log = self.home.logs / "serve.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def started_stack(root: Path, **choices: Any) -> Iterator[Stack]:
    """`make up` in home ``root`` with four sampled months landed; `make down` after."""
    h = Home(root)
    for month in SAMPLE_MONTHS:
        demo.land_month(h.landing, month, every=SAMPLE_EVERY)
    config = yaml.safe_load(config_path("flights").read_text())
    config["split"].update(test_months=1, validation_months=1, min_train_rows=100)
    config["tuning"] = {"families": []}  # this tier is about orchestration, not the search
    config["deployment"]["landing_quiet_seconds"] = QUIET_SECONDS
    # Each test drives the stage it is about; a landing would otherwise also start a predict
    # run, its monitoring and perhaps an alarm retrain, counted by the tests of other stages.
    config["deployment"]["predict_on_landing"] = False
    config_file = h.root / "flights.yaml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    options = stack.StackOptions(
        configs=[config_file],
        prefect_port=processes.free_port(),
        mlflow_port=processes.free_port(),
        data_docs_port=processes.free_port(),
        env={
            "PREFECT_HOME": str(h.prefect),
            "MLFLOW_TRACKING_URI": f"sqlite:///{h.mlflow_db}",
            # A run that found the retrain slot taken retries after 30 s by default.
            "PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS": "2",
            # Runs queued behind the one-at-a-time limit start within a second of their turn.
            "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        },
        **choices,
    )
    started = time.monotonic()
    try:
        urls = stack.up(h, options, echo=lambda _: None)
        print(f"\nstack up in {time.monotonic() - started:.1f} s: {urls}")
        with httpx.Client(timeout=30) as http:
            yield Stack(h, urls, config_file, http, options)
    finally:
        pids = stack.running(h)
        stack.down(h, echo=lambda _: None)
        assert stack.running(h) == {}
        assert pids and not any(processes.group_alive(pid) for pid in pids.values())


# Package scope: one stack for the whole e2e tier, stopped as soon as the tier is done rather
# than at the end of the session, so it does not run beside the flow tier's harness.
@pytest.fixture(scope="package")
def running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """`make up` in a temporary home with four sampled months landed; `make down` after."""
    with started_stack(tmp_path_factory.mktemp("e2e") / "home") as running:
        yield running
