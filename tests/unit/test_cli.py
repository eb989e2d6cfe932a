"""The CLI answers bad input with a message, not a stack trace."""

from typer.testing import CliRunner

from retrainer.boundaries.settings import config_path
from retrainer.operations.cli import app

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
