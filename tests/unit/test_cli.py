"""The CLI answers bad input with a message, not a stack trace."""

import socket

import pytest
from typer.testing import CliRunner

from retrainer.boundaries.settings import config_path
from retrainer.operations.cli import app
from retrainer.operations.processes import free_port

runner = CliRunner()


def test_run_with_a_broken_config_says_what_is_wrong(tmp_path, home):
    bad = tmp_path / "bad.yaml"
    bad.write_text(config_path("flights").read_text().replace("threshold: 15", "threshold: soon"))
    result = runner.invoke(app, ["run", "--config", str(bad)])
    assert result.exit_code == 2
    assert "target.threshold" in result.output and "Traceback" not in result.output


def test_land_rejects_a_month_the_demo_does_not_have(home):
    result = runner.invoke(app, ["land", "--month", "13"])
    assert result.exit_code == 2 and "months 1-12" in result.output


def test_land_then_audit(home):
    assert runner.invoke(app, ["land", "--month", "1", "--every", "100"]).exit_code == 0
    assert (home / "landing" / "flights" / "flights_2013_01.csv").exists()
    result = runner.invoke(app, ["audit", "--markdown"])
    assert result.exit_code == 0 and "| flights | 0 |" in result.output  # landed, not ingested
    table = runner.invoke(app, ["audit"])
    assert table.exit_code == 0 and "Data audit" in table.output and "|" not in table.output


def test_check_lists_every_misspelt_column_and_exits_2(edited_config, home):
    def misspell(config):
        config["features"]["categorical"] = ["carier", "origin", "dest"]
        config["target"]["column"] = "arr_dellay"

    config = str(edited_config(misspell))
    result = runner.invoke(app, ["check", "--config", config], env={"COLUMNS": "300"})

    assert result.exit_code == 2
    assert "'carier' is not a column of the training table (did you mean 'carrier'?)" in (
        result.output
    )
    assert "(did you mean 'arr_delay'?)" in result.output and "Traceback" not in result.output


def test_check_says_a_good_config_is_valid(home):
    result = runner.invoke(app, ["check"])

    assert result.exit_code == 0 and "the config is valid" in result.output


def test_an_unexpected_error_is_one_line_and_the_trace_is_in_the_log(home, monkeypatch, capsys):
    from retrainer.boundaries import tracking
    from retrainer.operations import cli

    def broken(*args, **kwargs):
        raise RuntimeError("the registry exploded\nwith a second line")

    monkeypatch.setattr(tracking, "model_status", broken)
    monkeypatch.setattr("sys.argv", ["retrainer", "status"])

    with pytest.raises(SystemExit) as exit_:
        cli.main()

    err = capsys.readouterr().err
    log = home / "logs" / "cli.log"
    assert exit_.value.code == 1
    assert err.splitlines()[0] == "error: RuntimeError: the registry exploded"
    assert f"full trace: {log}" in err and "Traceback" not in err
    assert "Traceback" in log.read_text() and "second line" in log.read_text()


def test_a_taken_port_names_the_option_and_leaves_nothing_behind(tmp_path, monkeypatch):
    root = tmp_path / "fresh-home"
    monkeypatch.setenv("RETRAINER_HOME", str(root))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["--prefect-port", str(port), "--mlflow-port", str(free_port())]
        result = runner.invoke(app, ["up", *args, "--data-docs-port", str(free_port())])

    assert result.exit_code == 1
    assert f"prefect-server: port {port} on 127.0.0.1 is taken" in result.output
    assert "retrainer up --prefect-port PORT" in result.output
    assert "stopping" not in result.output and "stopped" not in result.output
    assert not root.exists()


def test_check_reports_declared_and_landed_problems_together(edited_config, home):
    def misspell(config):
        types = config["sources"][0]["schema_mapping"]["types"]
        types["distanse"] = types.pop("distance")
        config["features"]["numeric"].remove("distance")
        history = config["features"]["history"]
        config["features"]["history"] = [h for h in history if h.get("value") != "distance"]
        config["features"]["derived"] = {}  # they read the aircraft's latest leg distance
        config["target"]["column"] = "arr_dellay"

    assert runner.invoke(app, ["land", "--month", "1", "--every", "200"]).exit_code == 0
    result = runner.invoke(
        app, ["check", "-c", str(edited_config(misspell))], env={"COLUMNS": "300"}
    )

    assert result.exit_code == 2 and "2 problem(s)" in result.output
    assert "'distanse' is not a column of the landed deliveries of flights" in result.output
    assert "'arr_dellay' is not a column of the base source flights" in result.output
