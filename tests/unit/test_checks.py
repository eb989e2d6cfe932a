"""Errors before work: every column a config names exists, or the config says which does not."""

import pytest

from retrainer.domain.checks import check_columns, did_you_mean
from retrainer.domain.config import ConfigError, RetrainConfig, load_dataset

FLIGHTS_DELIVERED = [
    "year", "month", "day", "dep_time", "sched_dep_time", "dep_delay", "arr_time",
    "sched_arr_time", "arr_delay", "carrier", "flight", "tailnum", "origin", "dest",
    "air_time", "distance", "hour", "minute", "time_hour",
]  # fmt: skip


def _misspell(config: dict) -> None:
    config["features"]["numeric"][6] = "distanse"
    config["target"]["column"] = "arr_dellay"
    config["lookups"][1]["columns"][1] = "seets"  # planes


def test_the_bundled_config_names_only_columns_its_sources_have(flights_config):
    landed = {"flights": FLIGHTS_DELIVERED}

    check = check_columns(flights_config, landed)

    assert check.ok and check.warnings == []


def test_every_misspelt_column_is_named_at_once_with_the_closest_name(edited_config):
    with pytest.raises(ConfigError) as error:
        load_dataset(edited_config(_misspell))

    lines = str(error.value).splitlines()
    assert "  - features.numeric: 'distanse' is not a column of the training table" in "\n".join(
        lines
    )
    assert any("'distanse'" in line and "(did you mean 'distance'?)" in line for line in lines)
    assert any("target.column: 'arr_dellay'" in line and "'arr_delay'" in line for line in lines)
    assert any(
        "'seets' is not a column of planes (did you mean 'seats'?)" in line for line in lines
    )


def test_a_misspelt_key_under_types_is_caught_against_the_delivered_columns(flights_config):
    config = flights_config.model_copy(deep=True)
    types = config.source("flights").schema_mapping.types
    types["distanse"] = types.pop("distance")
    config.features.numeric.remove("distance")  # consistent in itself: only the data shows it
    config.features.history = [h for h in config.features.history if h.value != "distance"]
    config.features.derived = {}  # they read the aircraft's latest leg distance

    check = check_columns(config, {"flights": FLIGHTS_DELIVERED})

    assert check.errors == [
        "sources[flights].schema_mapping.types: 'distanse' is not a column of the landed "
        "deliveries of flights (did you mean 'distance'?); it would always be empty"
    ]
    assert check_columns(config).ok  # without landed data nothing can tell


def test_a_declared_column_no_delivery_carries_yet_only_warns(flights_config):
    delivered = [c for c in FLIGHTS_DELIVERED if c != "air_time"]

    check = check_columns(flights_config, {"flights": delivered})

    assert check.ok
    assert check.warnings == [
        "sources[flights].schema_mapping.types: 'air_time' is not a column of the landed "
        "deliveries of flights; it would always be empty"
    ]


def test_keys_time_columns_and_the_leakage_guard_are_checked(flights_config):
    raw = flights_config.model_dump(mode="json")
    raw["sources"][0]["key"] = ["year", "mnth"]
    raw["sources"][0]["schema_mapping"]["types"]["time_hour"] = "str"
    raw["features"]["known_after_prediction"] = ["dep_tme"]
    raw["features"]["impute"] = {"weather_wind_gusts": "zero"}

    errors = check_columns(RetrainConfig.model_validate(raw)).errors

    assert (
        "sources[flights].key: 'mnth' is not a column of source flights (did you mean 'month'?)"
        in errors
    )
    assert any("time_hour' is typed str" in e and "must be datetime" in e for e in errors)
    assert any(e.startswith("features.known_after_prediction: 'dep_tme'") for e in errors)
    assert any(e.startswith("features.impute: 'weather_wind_gusts'") for e in errors)


def test_did_you_mean_says_nothing_when_nothing_is_close():
    assert did_you_mean("distanse", {"distance", "origin"}) == " (did you mean 'distance'?)"
    assert did_you_mean("zzz", {"distance", "origin"}) == ""
