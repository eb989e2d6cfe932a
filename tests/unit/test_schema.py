"""Schema mapping, cleaning and anomaly detection on tiny inline frames."""

import numpy as np
import pandas as pd
import pytest

from retrainer.domain.config import AnomalyConfig, SchemaMapping, SourceConfig, UnitConversion
from retrainer.domain.schema import (
    REASON,
    SchemaError,
    apply_schema,
    split_anomalies,
    split_future,
    split_key_conflicts,
)


def source(**mapping) -> SourceConfig:
    return SourceConfig(
        name="s",
        kind="files",
        path="s/*",
        key=["id"],
        time_column="at",
        suite="s.json",
        schema_mapping=SchemaMapping(
            types={"id": "int", "at": "datetime", "x": "float", "cat": "str"}, **mapping
        ),
    )


def test_renames_types_and_converts_units():
    raw = pd.DataFrame(
        {
            "ID": ["1", "2"],
            "at": ["2013-01-01T05:00:00Z", "2013-01-01T06:00:00Z"],
            "x_c": ["0", "100"],
            "cat": ["a", None],
        }
    )
    prepared = apply_schema(
        raw,
        source(rename={"ID": "id", "x_c": "x"}, units={"x": UnitConversion(multiply=1.8, add=32)}),
    )
    clean = prepared.clean
    assert list(clean["x"]) == [32.0, 212.0]
    assert str(clean["id"].dtype) == "Int64"
    assert clean["at"].dt.tz is not None
    assert clean["cat"].isna().tolist() == [False, True]
    assert prepared.quarantine.empty


def test_missing_required_column_names_the_rename_that_would_fix_it():
    raw = pd.DataFrame({"identifier": [1], "at": ["2013-01-01"]})
    with pytest.raises(SchemaError, match=r"missing required columns \['id'\].*\{'ID': 'id'\}"):
        apply_schema(raw, source(rename={"ID": "id"}, required_columns=["id"]))


def test_unparseable_values_are_quarantined_with_the_column_not_coerced_to_null():
    raw = pd.DataFrame(
        {"id": ["1", "2", "3", "4"], "at": ["2013-01-01"] * 4, "x": ["1.5", "abc", "inf", None]}
    )
    prepared = apply_schema(raw, source())
    assert prepared.clean["id"].tolist() == [1, 4]
    assert prepared.clean["x"].isna().tolist() == [False, True]  # a real null stays a null
    assert prepared.quarantine[REASON].tolist() == ["x: value is not a valid float"] * 2
    assert prepared.quarantine["x"].tolist() == ["abc", "inf"]  # kept as received


def test_unknown_columns_are_dropped_and_reported():
    raw = pd.DataFrame({"id": ["1"], "at": ["2013-01-01"], "surprise": ["!"]})
    prepared = apply_schema(raw, source())
    assert prepared.dropped_columns == ["surprise"]
    assert "surprise" not in prepared.clean


def test_exact_duplicates_are_counted_and_conflicting_keys_quarantined():
    raw = pd.DataFrame(
        {"id": ["1", "1", "2", "2"], "at": ["2013-01-01"] * 4, "x": ["1", "1", "5", "6"]}
    )
    prepared = apply_schema(raw, source())
    assert prepared.exact_duplicates == 1
    kept, conflicts = split_key_conflicts(prepared.clean, ["id"])
    assert kept["id"].tolist() == [1]
    assert len(conflicts) == 2 and "appears more than once" in conflicts[REASON].iloc[0]


def test_records_from_the_future_are_quarantined():
    frame = pd.DataFrame(
        {"at": pd.to_datetime(["2013-01-01", "2099-01-01"], utc=True), "_row": [0, 1]}
    )
    kept, future = split_future(frame, "at", pd.Timestamp("2026-01-01", tz="UTC"))
    assert len(kept) == 1 and future[REASON].iloc[0].startswith("at is in the future")


def test_a_sensor_spike_is_quarantined_but_a_front_is_not():
    hours = pd.date_range("2013-01-01", periods=12, freq="h", tz="UTC")
    speed = [10, 11, 10, 12, 1048, 11, 10, 30, 31, 32, 30, 31]  # a glitch, then a real change
    frame = pd.DataFrame(
        {"at": hours, "site": "EWR", "w": np.array(speed, float), "_row": range(12)}
    )
    kept, spikes = split_anomalies(
        frame, AnomalyConfig(max_jump={"w": 40}, group_by=["site"]), "at"
    )
    assert spikes["w"].tolist() == ["1048.0"]
    assert "sensor spike: w=1048" in spikes[REASON].iloc[0]
    assert len(kept) == 11
