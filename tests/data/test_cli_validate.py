"""`retrainer validate FILE --source S`: ingestion's verdict on one file, the lake untouched."""

from pathlib import Path

from typer.testing import CliRunner

from retrainer.boundaries import demo
from retrainer.operations.cli import app

runner = CliRunner(env={"COLUMNS": "250"})  # rich tables as wide as a terminal might be


def test_a_good_feed_batch_is_accepted_and_its_glitch_would_be_quarantined(home: Path):
    (batch,) = [
        p for p in demo.land_month(home / "landing", 2, every=50) if p.name.endswith("_08.jsonl")
    ]

    result = runner.invoke(app, ["validate", str(batch), "--source", "weather"])

    assert result.exit_code == 0, result.output
    assert "would be accepted" in result.output
    assert "expect_column_values_to_be_between" in result.output and "1048.36" in result.output
    assert "physically impossible" in result.output  # why the expectation exists
    assert not (home / "lake").exists()


def test_a_file_without_a_required_column_would_be_rejected_with_the_fix(home: Path, tmp_path):
    month = demo.flights_month(1, every=500).drop(columns=["time_hour"])
    bad = tmp_path / "flights_2013_01.csv"
    month.to_csv(bad, index=False)

    result = runner.invoke(app, ["validate", str(bad), "-s", "flights"])

    assert result.exit_code == 1
    assert "would be rejected" in result.output and "missing required columns ['time_hour']" in (
        result.output
    )


def test_an_unknown_source_is_named_with_the_closest_one(home: Path, tmp_path):
    any_file = tmp_path / "x.csv"
    any_file.write_text("a\n1\n")

    result = runner.invoke(app, ["validate", str(any_file), "--source", "wether"])

    assert result.exit_code == 2 and "did you mean 'weather'?" in result.output
