"""The pure rules behind reliability: corrections vs duplicates, open rejections, row checks,
empty model columns, pseudonyms, and the config checks that keep joins on them working."""

import json

import numpy as np
import pandas as pd
import pytest

from retrainer.boundaries.settings import config_path, expectations_dir
from retrainer.boundaries.validation import load_suite
from retrainer.domain.audit import as_markdown, audit_source, erasures_markdown
from retrainer.domain.config import ConfigError, load_config, load_dataset
from retrainer.domain.corrections import match_existing
from retrainer.domain.deliveries import DeliveryRecord, outstanding_rejections
from retrainer.domain.privacy import pseudonym, pseudonymise
from retrainer.domain.row_checks import RowCheck, empty_columns, failing_rows, model_columns


def lake_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3],
            "v": [1.0, np.nan, 3.0],
            "s": pd.array(["a", None, "c"], dtype="string"),
            "_file": ["f1", "f1", "f2"],
        }
    )


def test_rows_of_known_keys_are_duplicates_when_equal_and_corrections_when_not():
    new = pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "v": [1.0, np.nan, 9.0, 4.0],  # missing equals missing
            "s": pd.array(["a", None, "x", "d"], dtype="string"),
        },
        index=[10, 11, 12, 13],
    )

    matches = match_existing(new, lake_rows(), ["id"], ["v", "s"])

    assert matches.duplicate.tolist() == [True, True, False, False]
    assert matches.correction.tolist() == [False, False, True, False]
    assert matches.fresh.tolist() == [False, False, False, True]
    assert matches.changed[12] == "v, s" and matches.files[12] == "f2"


def test_an_empty_lake_makes_every_row_fresh():
    new = pd.DataFrame({"id": [1], "v": [1.0]})
    assert match_existing(new, pd.DataFrame(columns=["id", "v"]), ["id"], ["v"]).fresh.all()


def record(name: str, sha: str, status: str, **extra) -> DeliveryRecord:
    return DeliveryRecord("s", name, sha, "2026-01-01", status, f"raw/s/{sha}", **extra)


def test_a_rejection_stays_open_until_a_delivery_of_that_name_or_content_is_accepted():
    bad = record("may.csv", "aa", "rejected", reason="empty")
    other = record("june.csv", "bb", "rejected", reason="empty")
    assert outstanding_rejections([bad, other]) == [bad, other]
    assert outstanding_rejections([bad, other, record("may.csv", "cc", "accepted")]) == [other]
    fixed = record("june-fixed.csv", "dd", "accepted", previous_sha256=["bb"])
    assert outstanding_rejections([bad, other, fixed]) == [bad]


def test_the_audit_counts_corrections_and_lists_only_open_rejections():
    records = [
        record("a.csv", "aa", "accepted", accepted=5, duplicates=2, corrections=1),
        record("b.csv", "bb", "rejected", reason="empty\nmore"),
        record("c.csv", "cc", "rejected", reason="bad"),
        record("c.csv", "dd", "accepted"),
    ]
    audit = audit_source("s", records, pd.DataFrame(), pd.DataFrame())
    assert (audit.duplicates, audit.corrections, audit.deliveries_rejected) == (2, 1, 2)
    assert audit.rejected == ["b.csv (raw copy raw/s/bb): empty"]
    assert "| s | 2 | 2 | 0 | 5 | 0 | 2 | 1 |" in as_markdown([audit])


def test_the_erasure_log_shows_counts_never_values():
    entry = {
        "at": "2026-11-24T10:00:00+00:00",
        "column": "tailnum",
        "rows": {"flights": {"raw": 3, "validated": 3, "landing": 0}},
        "files_rewritten": 2,
    }
    assert "flights: raw 3, validated 3 | 2 |" in erasures_markdown([entry])
    assert erasures_markdown([]) == ""


def test_a_row_check_fails_only_rows_whose_values_are_all_present():
    frame = pd.DataFrame(
        {
            "hour": pd.array([5, 27, None, 9], dtype="Int64"),
            "sched_dep_time": pd.array([515, 530, 600, None], dtype="Int64"),
        }
    )
    check = RowCheck("hour == sched_dep_time // 100", "why")
    assert failing_rows(frame, check).tolist() == [False, True, False, False]


def test_empty_model_columns_include_absent_ones_and_ignore_an_empty_delivery():
    frame = pd.DataFrame({"a": [1, None], "b": [None, None]})
    assert empty_columns(frame, ["a", "b", "c"]) == ["b", "c"]
    assert empty_columns(frame.iloc[0:0], ["b"]) == []


def test_model_columns_are_features_label_and_join_keys_of_each_source():
    config = load_config(config_path("flights"))
    assert {"arr_delay", "distance", "tailnum", "carrier"} <= set(model_columns(config, "flights"))
    assert "dep_delay" not in model_columns(config, "flights")  # known only after departure
    assert model_columns(config, "planes") == ["engines", "seats", "tailnum", "year"]


def test_pseudonyms_are_keyed_stable_and_keep_missing_values_missing():
    frame = pd.DataFrame({"t": pd.array(["N1", None, "N1"], dtype="string")})
    out = pseudonymise(frame, ["t", "absent"], b"k")
    assert out["t"][0] == out["t"][2] == pseudonym("N1", b"k") != pseudonym("N1", b"other")
    assert out["t"].isna().tolist() == [False, True, False]
    assert len(out["t"][0]) == 32 and "N1" not in out["t"][0]


def test_a_join_key_personal_in_only_one_source_is_a_config_error(edited_config):
    def unmark_planes(config):
        (planes,) = [s for s in config["sources"] if s["name"] == "planes"]
        planes["personal_columns"] = []

    with pytest.raises(ConfigError, match="personal in only one"):
        load_dataset(edited_config(unmark_planes))


def test_a_personal_column_must_be_text(edited_config):
    def mark_a_number(config):
        config["sources"][0]["personal_columns"] = ["tailnum", "flight"]

    with pytest.raises(ConfigError, match=r"\['flight'\] must be typed `str`"):
        load_dataset(edited_config(mark_a_number))


RANGE_OR_SET = {
    "expect_column_values_to_be_between",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_match_regex",
    "expect_column_value_lengths_to_be_between",
}


def test_every_typed_column_of_every_demo_source_has_a_range_or_set_expectation():
    config = load_config(config_path("flights"))
    for source in config.sources:
        suite = json.loads((expectations_dir() / source.suite).read_text())
        checked = {
            e["kwargs"]["column"] for e in suite["expectations"] if e["type"] in RANGE_OR_SET
        }
        missing = set(source.schema_mapping.types) - checked
        assert missing == set(), f"{source.name}: no range or set expectation for {missing}"


def test_datetime_bounds_in_a_suite_file_become_timestamps():
    suite = load_suite(expectations_dir() / "weather.json")
    (bounds,) = [
        e["kwargs"]
        for e in suite["expectations"]
        if e["kwargs"].get("column") == "time_hour" and "min_value" in e["kwargs"]
    ]
    assert bounds["min_value"] == pd.Timestamp("1990-01-01", tz="UTC")
