"""A corpus of bad deliveries: each gets a clear error or a quarantine with its reason, and the
lake stays unchanged or is only correctly appended. Real suites from expectations/, real GX."""

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from retrainer.boundaries import demo
from retrainer.boundaries.ingest import IngestResult, KeyIndex, Rules, ingest_delivery
from retrainer.boundaries.lake import Lake
from retrainer.boundaries.settings import expectations_dir
from retrainer.boundaries.sources import Delivery
from retrainer.boundaries.sources.feed import read_jsonl
from retrainer.boundaries.sources.files import read_csv, read_parquet
from retrainer.domain.config import RetrainConfig
from retrainer.domain.schema import REASON

NOW = pd.Timestamp("2026-11-23", tz="UTC")


@pytest.fixture(scope="module")
def gx_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gx")


@pytest.fixture(scope="module")
def good_flights() -> pd.DataFrame:
    return demo.flights_month(1, every=200).reset_index(drop=True)


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path / "lake")


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def land(
    lake: Lake, config: RetrainConfig, gx_root: Path, content: bytes, name="f.csv", source="flights"
) -> IngestResult | None:
    suffix = Path(name).suffix
    parse = {".csv": read_csv, ".parquet": read_parquet, ".jsonl": read_jsonl}[suffix]
    src = config.source(source)
    delivery = Delivery(source, name, content, suffix, parse)
    rules = Rules(src, expectations_dir() / src.suite, gx_root, pseudonym_key=b"test key")
    return ingest_delivery(lake, rules, delivery, KeyIndex(lake, src), NOW)


def snapshot(lake: Lake) -> dict[str, str]:
    """Every file in the validated zone with its content hash."""
    return {
        str(p.relative_to(lake.root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(lake.root.glob("validated/**/*.parquet"))
    }


def accepted_rows(lake: Lake) -> int:
    return len(lake.read_validated("flights"))


@pytest.fixture
def seeded(lake, flights_config, gx_root, good_flights) -> dict[str, str]:
    """The lake after one good delivery: what every bad one must leave untouched."""
    result = land(lake, flights_config, gx_root, csv_bytes(good_flights), "good.csv")
    assert result.record.status == "accepted"
    return snapshot(lake)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the delivery is empty"),
        (b"year,month,day\n", "no records"),
        (b"\xff\xfeyear,month\n2013,1\n", "not UTF-8"),
        (b"year,month,day\n2013,1,1\n2013,1,1,9,9\n", "cannot be parsed"),
    ],
    ids=["empty", "header-only", "non-utf8", "malformed"],
)
def test_unparseable_files_are_rejected_and_add_nothing(
    lake, flights_config, gx_root, seeded, content, message
):
    result = land(lake, flights_config, gx_root, content, "bad.csv")
    assert result.record.status == "rejected" and message in result.error
    assert snapshot(lake) == seeded
    assert (lake.root / result.record.raw).read_bytes() == content  # kept as received


def test_truncated_file_is_rejected(lake, flights_config, gx_root, seeded, good_flights):
    content = csv_bytes(good_flights)
    cut = content.index(b"\n", len(content) // 2) - 5  # in the middle of a record
    result = land(lake, flights_config, gx_root, content[:cut], "cut.csv")
    assert result.record.status == "rejected" and "truncated" in result.error
    assert snapshot(lake) == seeded


@pytest.mark.parametrize("column", ["carrier", "arr_delay"], ids=["key-column", "target"])
def test_missing_required_column_is_rejected(
    lake, flights_config, gx_root, seeded, good_flights, column
):
    result = land(lake, flights_config, gx_root, csv_bytes(good_flights.drop(columns=[column])))
    assert result.record.status == "rejected"
    assert f"missing required columns ['{column}']" in result.error
    assert snapshot(lake) == seeded


def test_renamed_column_is_rejected_until_the_mapping_says_so(
    lake, flights_config, gx_root, seeded, good_flights
):
    renamed = good_flights.iloc[:50].rename(columns={"carrier": "airline"})
    result = land(lake, flights_config, gx_root, csv_bytes(renamed), "renamed.csv")
    assert "missing required columns ['carrier']" in result.error and "'airline'" in result.error
    mapped = flights_config.model_copy(deep=True)
    mapped.source("flights").schema_mapping.rename = {"airline": "carrier"}
    again = land(lake, mapped, gx_root, csv_bytes(renamed), "renamed.csv")
    assert again.record.status == "accepted" and again.record.duplicates == 50


def test_extra_unknown_column_is_dropped_and_reported(lake, flights_config, gx_root, good_flights):
    result = land(lake, flights_config, gx_root, csv_bytes(good_flights.assign(promo="x")))
    assert result.record.status == "accepted"
    assert result.record.dropped_columns == ["promo"]
    assert "promo" not in lake.read_validated("flights")


def test_all_null_key_column_blocks_with_expectation_and_sample_rows(
    lake, flights_config, gx_root, seeded, good_flights
):
    result = land(lake, flights_config, gx_root, csv_bytes(good_flights.assign(dest=None)))
    assert result.record.status == "rejected"
    assert "expect_column_values_to_not_be_null on column 'dest'" in result.error
    assert "failing rows e.g. [0, 1, 2" in result.error
    assert snapshot(lake) == seeded


def test_all_null_optional_column_only_warns(lake, flights_config, gx_root, good_flights):
    result = land(lake, flights_config, gx_root, csv_bytes(good_flights.assign(tailnum=None)))
    assert result.record.status == "accepted"
    assert [w.column for w in result.validation.warnings] == ["tailnum"]


def test_duplicate_file_changes_nothing(lake, flights_config, gx_root, seeded, good_flights):
    manifest = lake.manifest_path("flights").read_bytes()
    assert land(lake, flights_config, gx_root, csv_bytes(good_flights), "again.csv") is None
    assert snapshot(lake) == seeded and lake.manifest_path("flights").read_bytes() == manifest


def test_duplicate_rows_are_counted_not_written_twice(
    lake, flights_config, gx_root, seeded, good_flights
):
    overlap = pd.concat([good_flights.iloc[:10], good_flights.iloc[:3]])  # new bytes, old rows
    result = land(lake, flights_config, gx_root, csv_bytes(overlap), "overlap.csv")
    assert result.record.accepted == 0 and result.record.duplicates == 13
    assert accepted_rows(lake) == len(good_flights)


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("month", "13", "expect_column_values_to_be_between(month)"),
        ("origin", "BOS", "expect_column_values_to_be_in_set(origin)"),
        ("distance", "far", "distance: value is not a valid float"),
        ("distance", "inf", "distance: value is not a valid float"),
        ("time_hour", "2099-01-01T10:00:00Z", "time_hour is in the future"),
    ],
    ids=["out-of-range", "unseen-origin", "wrong-type", "inf", "from-the-future"],
)
def test_bad_rows_are_quarantined_with_reason_and_the_rest_accepted(
    lake, flights_config, gx_root, good_flights, column, value, reason
):
    frame = good_flights.astype({column: "object"})
    frame.loc[3, column] = value
    result = land(lake, flights_config, gx_root, csv_bytes(frame))
    assert result.record.status == "accepted"
    assert result.record.quarantined == 1 and result.record.accepted == len(frame) - 1
    quarantined = lake.read_quarantine("flights")
    assert reason in quarantined[REASON].iloc[0]
    assert quarantined[column].iloc[0].replace(" ", "T")[:13] == value[:13]


def test_unseen_destination_and_missing_target_are_accepted(
    lake, flights_config, gx_root, good_flights
):
    frame = good_flights.copy()
    frame.loc[0, "dest"] = "XYZ"  # a new route is data, not an error: the model copes
    frame.loc[1, "arr_delay"] = None  # a cancelled flight: kept, left out of training later
    result = land(lake, flights_config, gx_root, csv_bytes(frame))
    assert result.record.accepted == len(frame) and result.record.quarantined == 0


def test_parquet_delivery_is_ingested_like_csv(lake, flights_config, gx_root, good_flights):
    content = good_flights.to_parquet(index=False)
    result = land(lake, flights_config, gx_root, content, "f.parquet")
    assert result.record.accepted == len(good_flights)


def test_malformed_feed_batch_is_rejected(lake, flights_config, gx_root):
    result = land(lake, flights_config, gx_root, b'{"station": "EWR"\n', "w.jsonl", "weather")
    assert result.record.status == "rejected" and "cannot be parsed" in result.error
