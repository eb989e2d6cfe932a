"""What later deliveries do to the lake: corrections, rejections that stay reported, rows that
contradict themselves, empty model columns, pseudonyms, a source that does not answer.
Real suites from expectations/, real GX, the real lake."""

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from retrainer.boundaries import demo
from retrainer.boundaries.ingest import (
    KeyIndex,
    Rules,
    SourceUnavailableError,
    fetch,
    ingest_delivery,
    ingest_source,
)
from retrainer.boundaries.lake import Lake
from retrainer.boundaries.privacy import PseudonymKeyError
from retrainer.boundaries.settings import expectations_dir
from retrainer.boundaries.sources import Delivery
from retrainer.boundaries.sources.files import read_csv
from retrainer.domain.config import RetrainConfig, SourceConfig
from retrainer.domain.deliveries import outstanding_rejections
from retrainer.domain.row_checks import model_columns
from retrainer.domain.schema import CHECK, REASON
from tests.faults import silent_server

NOW = pd.Timestamp("2026-11-23", tz="UTC")
KEY = b"test key"


@pytest.fixture(scope="module")
def gx_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gx")


@pytest.fixture(scope="module")
def month() -> pd.DataFrame:
    return demo.flights_month(1, every=200).reset_index(drop=True)


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path / "lake")


def rules(config: RetrainConfig, gx_root: Path, source: str = "flights", **changes) -> Rules:
    src = config.source(source).model_copy(update=changes)
    return Rules(
        src, expectations_dir() / src.suite, gx_root, tuple(model_columns(config, source)), KEY
    )


def deliver(lake: Lake, judged: Rules, frame: pd.DataFrame, name: str = "f.csv"):
    content = frame.to_csv(index=False).encode()
    delivery = Delivery(judged.source.name, name, content, ".csv", read_csv)
    return ingest_delivery(lake, judged, delivery, KeyIndex(lake, judged.source), NOW)


@pytest.mark.parametrize("policy", ["keep_first", "take_newest", "quarantine"])
def test_a_corrected_row_is_counted_apart_from_duplicates_and_follows_the_policy(
    lake, flights_config, gx_root, month, policy
):
    judged = rules(flights_config, gx_root, corrections=policy)
    first = deliver(lake, judged, month, "jan.csv")
    resent = month.iloc[:10].copy()
    resent.loc[[2, 5, 7], "arr_delay"] = [99.0, 98.0, 97.0]

    result = deliver(lake, judged, resent, "jan-corrected.csv")

    assert (result.record.duplicates, result.record.corrections) == (7, 3)
    lake_rows = lake.read_validated("flights")
    assert len(lake_rows) == len(month)  # never two rows of one flight
    delays = lake_rows.set_index(["flight", "carrier", "day"])["arr_delay"]
    corrected = resent.loc[[2, 5, 7]].set_index(["flight", "carrier", "day"])["arr_delay"]
    original = month.loc[[2, 5, 7]].set_index(["flight", "carrier", "day"])["arr_delay"]
    if policy == "take_newest":
        assert delays[corrected.index].tolist() == [99.0, 98.0, 97.0]
        assert result.record.accepted == 3
        # the partition was rewritten under a new name; the old file is gone
        assert not any((lake.root / p).exists() for p in first.record.validated)
    else:
        assert delays[original.index].tolist() == original.tolist()
    if policy == "quarantine":
        quarantined = lake.read_quarantine("flights")
        assert (quarantined[CHECK] == "correction").sum() == 3
        assert quarantined[REASON].str.contains(r"\[arr_delay\]").all()
    else:
        assert lake.read_quarantine("flights").empty


def test_a_rejected_delivery_is_recorded_once_and_reported_until_replaced(
    lake, flights_config, gx_root, month
):
    judged = rules(flights_config, gx_root)
    assert deliver(lake, judged, month.drop(columns=["carrier"]), "feb.csv").error
    assert deliver(lake, judged, month.drop(columns=["carrier"]), "feb.csv") is None
    (open_one,) = outstanding_rejections(lake.records("flights"))
    assert open_one.name == "feb.csv" and "missing required columns" in open_one.reason
    assert (lake.root / open_one.raw).exists()

    assert deliver(lake, judged, month, "feb.csv").record.status == "accepted"
    assert outstanding_rejections(lake.records("flights")) == []


def test_impossible_and_contradicting_values_are_quarantined_with_the_rule(
    lake, flights_config, gx_root, month
):
    frame = month.copy()
    frame.loc[1, "hour"] = 27  # an hour that does not exist
    frame.loc[4, "hour"] = (frame.loc[4, "sched_dep_time"] // 100 + 3) % 24  # contradicts

    result = deliver(lake, rules(flights_config, gx_root), frame)

    assert result.record.quarantined == 2 and result.record.accepted == len(frame) - 2
    reasons = lake.read_quarantine("flights").set_index("_row")[REASON]
    assert "expect_column_values_to_be_between(hour)" in reasons[1]
    assert "row_check(hour == sched_dep_time // 100)" in reasons[4]
    assert any("quarantined by row_check" in w for w in result.record.warnings)  # on the run


@pytest.mark.parametrize("column", ["arr_delay", "distance"], ids=["label", "feature"])
def test_an_entirely_empty_label_or_feature_column_warns(
    lake, flights_config, gx_root, month, column
):
    result = deliver(lake, rules(flights_config, gx_root), month.assign(**{column: None}))

    assert result.record.status == "accepted"
    assert any(column in warning for warning in result.record.warnings)


def test_personal_columns_reach_the_lake_only_as_pseudonyms_that_still_join(
    lake, flights_config, gx_root, month, tmp_path
):
    demo.land_month(tmp_path / "landing", 1, every=200)
    deliver(lake, rules(flights_config, gx_root), month)
    ingest_source(lake, rules(flights_config, gx_root, "planes"), tmp_path / "landing")

    flights = lake.read_validated("flights")["tailnum"].dropna()
    planes = lake.read_validated("planes")["tailnum"]
    assert (
        flights.str.fullmatch("[0-9a-f]{32}").all() and planes.str.fullmatch("[0-9a-f]{32}").all()
    )
    assert flights.isin(planes).mean() > 0.8  # the join still finds most planes
    clear = month["tailnum"].dropna().iloc[0].encode()
    assert not any(clear in p.read_bytes() for p in lake.root.glob("validated/**/*.parquet"))


def test_a_lake_refuses_a_pseudonym_key_it_was_not_written_with(
    lake, flights_config, gx_root, tmp_path
):
    demo.land_month(tmp_path / "landing", 1, every=200)
    ingest_source(lake, rules(flights_config, gx_root, "planes"), tmp_path / "landing")
    other = Rules(**{**rules(flights_config, gx_root, "planes").__dict__, "pseudonym_key": b"x"})
    with pytest.raises(PseudonymKeyError, match="RETRAINER_PSEUDONYM_KEY"):
        ingest_source(lake, other, tmp_path / "landing")


@pytest.fixture
def silent_database() -> Iterator[int]:
    with silent_server() as port:
        yield port


def test_a_source_that_times_out_is_retried_with_backoff_then_reported_in_one_line(
    silent_database, tmp_path
):
    source = SourceConfig(
        name="planes",
        kind="sql",
        url=f"postgresql+psycopg2://retrainer@127.0.0.1:{silent_database}/fleet",
        table="planes",
        key=["tailnum"],
        suite="planes.json",
        timeout_seconds=1,
        retries=2,
        retry_delay_seconds=0.1,
    )
    waits: list[float] = []

    with pytest.raises(SourceUnavailableError) as caught:
        fetch(source, tmp_path, sleep=waits.append)

    assert waits == [0.1, 0.4]  # backoff: each wait four times the one before
    message = str(caught.value)
    assert "\n" not in message and "after 3 attempts" in message and "timeout" in message
