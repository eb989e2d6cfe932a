"""RETRAINER_WORK_POOL and `retrainer worker`: the setting, the worker's command line, and the
refusals that need no server (the run on a pool is tests/e2e/test_work_pool.py)."""

import sys

import pytest
from typer.testing import CliRunner

from retrainer.boundaries.settings import Settings
from retrainer.operations.cli import app
from retrainer.operations.console import stack_table
from retrainer.operations.processes import free_port
from retrainer.operations.servers import StackOptions, stack_urls, worker_argv

runner = CliRunner()


@pytest.fixture
def no_stack(home, monkeypatch: pytest.MonkeyPatch):
    """A fresh home; no server address or pool from the caller's shell."""
    for name in ("PREFECT_API_URL", "RETRAINER_WORK_POOL"):
        monkeypatch.delenv(name, raising=False)
    return home


def test_the_pool_is_a_setting_and_off_by_default(monkeypatch):
    monkeypatch.delenv("RETRAINER_WORK_POOL", raising=False)
    assert Settings().work_pool is None

    monkeypatch.setenv("RETRAINER_WORK_POOL", "gpu-pool")
    assert Settings().work_pool == "gpu-pool"


def test_the_worker_is_prefects_process_worker_in_this_environment():
    assert worker_argv("retrainer") == [
        *(sys.executable, "-m", "prefect", "worker", "start"),
        *("--pool", "retrainer", "--type", "process"),
    ]
    assert worker_argv("retrainer", "machine-b", 1)[-4:] == ["--name", "machine-b", "--limit", "1"]


def test_up_says_where_the_runs_wait(tmp_path):
    urls = stack_urls(StackOptions(configs=[]))

    assert "work pool" not in stack_table(urls, {}, tmp_path)
    assert "retrainer: runs wait for `retrainer worker`" in stack_table(
        urls, {}, tmp_path, "retrainer"
    )


def test_a_worker_without_a_server_says_so(no_stack):
    result = runner.invoke(app, ["worker", "--pool", "retrainer"])

    assert result.exit_code == 2 and "no Prefect server" in result.output


def test_a_worker_without_a_pool_says_which_setting(no_stack, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")

    result = runner.invoke(app, ["worker"])

    assert result.exit_code == 2
    assert "no work pool: set RETRAINER_WORK_POOL" in result.output


def test_a_worker_whose_server_is_down_starts_nothing(no_stack, monkeypatch):
    api = f"http://127.0.0.1:{free_port()}/api"
    monkeypatch.setenv("PREFECT_API_URL", api)
    monkeypatch.setenv("RETRAINER_WORK_POOL", "retrainer")

    result = runner.invoke(app, ["worker"])

    assert result.exit_code == 2
    assert f"the Prefect server at {api} does not answer" in result.output
    assert "Traceback" not in result.output
