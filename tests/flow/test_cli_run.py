"""`retrainer run` when a gate stops the flow: its message, once, and no traceback on screen."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from retrainer.boundaries.settings import expectations_dir

pytestmark = pytest.mark.flow


def test_a_failing_gate_prints_its_message_and_the_log_keeps_the_trace(
    landed: Path, home: Path, edited_config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    suites = tmp_path / "expectations"
    shutil.copytree(expectations_dir(), suites)
    training = json.loads((suites / "training_flights.json").read_text())
    training["expectations"][0]["kwargs"]["min_value"] = 10_000_000  # row count can't pass
    (suites / "training_flights.json").write_text(json.dumps(training))
    monkeypatch.setenv("RETRAINER_EXPECTATIONS", str(suites))
    config = edited_config(lambda c: c["split"].update(test_months=1, min_train_rows=100))

    from prefect.settings import PREFECT_API_URL

    # As a user runs it (a process of its own, its own terminal), on the harness's server.
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("retrainer")), "run", "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    screen = done.stdout + done.stderr
    assert done.returncode == 1, screen
    assert "✗ validate-training-table" in screen
    assert "error: training table of flights failed 1 blocking expectation(s)" in screen
    assert "expect_table_row_count_to_be_between" in screen
    assert "Traceback" not in screen and screen.count("blocking expectation") == 1
    log = (home / "logs" / "cli.log").read_text()
    assert "Traceback" in log and "validate-training-table" in log
