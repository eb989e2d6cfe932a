"""`retrainer run` when the flow stops: the reason, once, and no traceback on the screen."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from retrainer.boundaries.settings import config_path

pytestmark = pytest.mark.flow


def test_a_stopped_run_prints_its_reason_and_the_log_keeps_the_trace(home: Path):
    from prefect.settings import PREFECT_API_URL

    # As a user runs it (a process of its own, its own terminal), on the harness's server;
    # nothing has landed, so the flow stops when it reads the lake.
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("retrainer")), "run", "-c", str(config_path())],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    screen = done.stdout + done.stderr
    assert done.returncode == 1, screen
    assert "✓ check-config" in screen and "✗ read-validated" in screen
    assert "error: no validated data for sources ['flights', 'weather', 'planes']" in screen
    assert "retrainer land --month N" in screen  # what to do
    assert "Traceback" not in screen and screen.count("no validated data") == 1
    log = (home / "logs" / "cli.log").read_text()
    assert "Traceback" in log and "EmptyLakeError" in log
