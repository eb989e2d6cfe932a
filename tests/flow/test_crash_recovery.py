"""`retrainer run` as a user runs it, killed with SIGKILL at chosen points and run again, and
two runs started at once on a fresh home. The runs use the session's Prefect server (the
test harness) instead of each starting an ephemeral one."""

import hashlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from mlflow import MlflowClient

from retrainer.boundaries import demo
from retrainer.boundaries.ingest import Rules, ingest_source
from retrainer.boundaries.lake import Lake
from retrainer.boundaries.privacy import pseudonym_key
from retrainer.boundaries.settings import Home, config_path, expectations_dir
from retrainer.domain.config import load_config
from retrainer.domain.row_checks import model_columns
from tests.flow.conftest import SAMPLE_EVERY, SAMPLE_MONTHS

pytestmark = [pytest.mark.flow, pytest.mark.slow]
MODEL = "flights-delay"
TIMEOUT = 300.0


class Run:
    """One `retrainer run` process: its output read as it comes, killable at a point."""

    def __init__(self, h: Home, config: Path) -> None:
        from prefect.settings import PREFECT_API_URL

        env = {**os.environ, "RETRAINER_HOME": str(h.root), "PYTHONUNBUFFERED": "1"}
        env["PREFECT_API_URL"] = str(PREFECT_API_URL.value())
        env.pop("MLFLOW_TRACKING_URI", None)
        env["OMP_NUM_THREADS"] = "1"
        retrainer = str(Path(sys.executable).with_name("retrainer"))
        self.process = subprocess.Popen(
            # --verbose: the kill points and the cache hits are read from the live log lines.
            # --force: every run here trains on the same data, as after a crash; without it the
            # gate would record "no change" once a version was judged, and train nothing.
            [retrainer, "--verbose", "run", "--config", str(config), "--force"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def kill_when(self, what: str, condition: Callable[[], bool]) -> None:
        """SIGKILL the process as soon as ``condition`` holds (polled every 20 ms)."""
        deadline = time.monotonic() + TIMEOUT
        while not condition():
            if self.process.poll() is not None:
                pytest.fail(f"the run ended before {what}:\n{self.output[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}")
            time.sleep(0.02)
        self.process.send_signal(signal.SIGKILL)
        self.finish()

    def logged(self, pattern: str) -> Callable[[], bool]:
        return lambda: any(re.search(pattern, line) for line in list(self.lines))

    def finish(self) -> int:
        code = self.process.wait(timeout=TIMEOUT)
        self.reader.join(timeout=10)
        return code


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    config = yaml.safe_load(config_path("flights").read_text())
    config["split"].update(test_months=1, validation_months=1, min_train_rows=100)
    config["tuning"] = {"families": []}  # the configured model only: the kills are the point
    path = tmp_path / "flights.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.fixture
def fresh(home: Path) -> Home:
    h = Home(home)
    for month in SAMPLE_MONTHS:
        demo.land_month(h.landing, month, every=SAMPLE_EVERY)
    return h


def mlflow_has_running_run(h: Home) -> Callable[[], bool]:
    def check() -> bool:
        if not h.mlflow_db.exists():
            return False
        try:
            with sqlite3.connect(h.mlflow_db, timeout=0.1) as db:
                return bool(db.execute("SELECT 1 FROM runs WHERE status = 'RUNNING'").fetchall())
        except sqlite3.OperationalError:
            return False  # not created or locked yet

    return check


def lake_content(lake: Lake) -> tuple[dict[str, str], list[dict]]:
    """Every data file with its hash, and the manifests without times: what must not differ."""
    files = {
        str(p.relative_to(lake.root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for zone in ("raw", "validated", "quarantine")
        for p in sorted((lake.root / zone).rglob("*"))
        if p.is_file()
    }
    records = [
        {k: v for k, v in vars(r).items() if k not in ("received_at", "validation_seconds")}
        for r in lake.records()
    ]
    return files, sorted(records, key=lambda r: (r["source"], r["name"]))


def reference_lake(h: Home, tmp_path: Path, config_file: Path) -> Lake:
    """The same landing zone ingested in one go, never interrupted."""
    config, lake = load_config(config_file), Lake(tmp_path / "reference")
    for source in config.sources:
        rules = Rules(
            source,
            expectations_dir() / source.suite,
            tmp_path / "gx",
            tuple(model_columns(config, source.name)),
            pseudonym_key(h),
        )
        ingest_source(lake, rules, h.landing)
    return lake


def lake_writer(h: Home, runs: list["Run"]) -> "Run | None":
    """The run holding the lake's writer lock now (from the kernel's table of file locks)."""
    lock = Lake(h.lake).root / ".writer.lock"
    if not lock.exists():
        return None
    inode = f":{lock.stat().st_ino} "
    holders = {
        int(fields[4])
        for line in Path("/proc/locks").read_text().splitlines()
        if inode in line and (fields := line.split())[1] == "FLOCK" and "->" not in line
    }
    return next((run for run in runs if run.process.pid in holders), None)


def test_runs_at_once_and_runs_killed_leave_nothing_lost_duplicated_or_undecided(
    fresh: Home, config_file: Path, tmp_path: Path
):
    # Two runs at once on a fresh home (both set up MLflow and GX); the one writing to the
    # lake is killed in the middle of ingestion, the other must finish the job.
    first, second = Run(fresh, config_file), Run(fresh, config_file)
    flights_done = Lake(fresh.lake).manifest_path("flights")
    deadline = time.monotonic() + TIMEOUT
    while not (flights_done.exists() and (writer := lake_writer(fresh, [first, second]))):
        assert time.monotonic() < deadline, "no run was writing to the lake"
        time.sleep(0.02)
    writer.process.send_signal(signal.SIGKILL)
    survivor = second if writer is first else first
    assert writer.finish() == -signal.SIGKILL
    assert survivor.finish() == 0, survivor.output[-3000:]
    # Killed inside MLflow logging (the run is RUNNING), then after registering a version
    # and before its promotion decision.
    inside_logging = Run(fresh, config_file)
    inside_logging.kill_when("an MLflow run in progress", mlflow_has_running_run(fresh))
    before_decision = Run(fresh, config_file)
    before_decision.kill_when("a registered version", before_decision.logged(r"logged run \w+"))

    final = Run(fresh, config_file)
    assert final.finish() == 0, final.output[-3000:]

    reference = reference_lake(fresh, tmp_path, config_file)
    assert lake_content(Lake(fresh.lake)) == lake_content(reference)
    assert not list(fresh.lake.rglob("*.tmp"))
    client = MlflowClient(f"sqlite:///{fresh.mlflow_db}")
    experiment = client.get_experiment_by_name(MODEL).experiment_id
    statuses = Counter(r.info.status for r in client.search_runs([experiment]))
    assert statuses["RUNNING"] == 0 and statuses["FAILED"] >= 1, statuses  # closed, not left
    decisions = {
        str(v.version): v.tags.get("promotion.decision")
        for v in client.search_model_versions(f"name = '{MODEL}'")
    }
    assert set(decisions.values()) <= {"promoted", "rejected", "failed"}, decisions
    assert decisions["1"] == "promoted", decisions  # the survivor of the concurrent pair
    assert "failed" in decisions.values(), decisions  # killed before its decision: closed
    assert decisions[max(decisions, key=int)] != "failed", decisions  # the final run's
    champion = client.get_model_version_by_alias(MODEL, "champion").version
    assert decisions[str(champion)] == "promoted"
    # the training table and its validation were computed once and reused, not redone
    assert re.search(r"build-features-\w+' - Finished in state Cached", final.output)
    assert re.search(r"validate-training-table-\w+' - Finished in state Cached", final.output)
