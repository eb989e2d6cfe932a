"""The CLI under faults: a dead tracking server is one line before any work, and erasure
refuses a column no source has."""

from typer.testing import CliRunner

from retrainer.boundaries import health
from retrainer.operations.cli import app
from retrainer.operations.processes import free_port

runner = CliRunner()


def test_run_against_a_dead_tracking_server_is_one_line_before_any_work(home, monkeypatch):
    assert runner.invoke(app, ["land", "--month", "1", "--every", "100"]).exit_code == 0
    uri = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setattr(health.time, "sleep", lambda _: None)

    result = runner.invoke(app, ["run"])

    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"error: MLflow tracking server at {uri} does not answer")
    assert not (home / "lake").exists()  # nothing was ingested


def test_forget_refuses_a_column_no_source_has(home):
    result = runner.invoke(app, ["forget", "--column", "passport", "--value", "X1"])
    assert result.exit_code == 2 and "no source of flights has a column 'passport'" in result.output
