"""Like with like: the champion's own inputs, months it was trained on, the slice table."""

import numpy as np
import pandas as pd
import pytest

from retrainer.domain.comparison import (
    champion_inputs,
    same_inputs,
    slice_table,
    trained_months_in,
)
from retrainer.domain.config import PromotionConfig, RetrainConfig
from retrainer.domain.features import build_training_table
from retrainer.domain.significance import GATE_METRICS
from tests.unit.test_features import frames

KEY = ["year", "month", "day", "carrier", "flight", "origin"]


def test_the_champion_is_scored_with_its_own_features(flights_config: RetrainConfig):
    # Today's config drops the weather; the champion was trained with it (and 3 h ahead).
    champion = flights_config.model_copy(deep=True)
    champion.features.prediction_horizon_hours = 3
    today = flights_config.model_copy(deep=True)
    today.features.numeric = [c for c in today.features.numeric if not c.startswith("weather_")]
    test = build_training_table(frames(), today).frame

    inputs, found = champion_inputs(frames(), champion, test, KEY)

    assert found.tolist() == [True, True, True]
    assert "weather_temp" in inputs and "weather_temp" not in test
    # Readings are published an hour after their label. Flight 1 leaves EWR at 09:40 UTC:
    # 3 h ahead the cutoff is 06:40, so the 03:00 reading (0.5), not the 06:00 one (1.0)
    # that a 2 h horizon sees. Flight 3 (JFK, 00:30 UTC) has no reading published by 21:30.
    np.testing.assert_array_equal(inputs["weather_temp"], [0.5, np.nan, 2.0])
    assert not same_inputs(champion, today) and same_inputs(today, today.model_copy(deep=True))


def test_rows_the_champion_cannot_build_are_marked(flights_config: RetrainConfig):
    test = build_training_table(frames(), flights_config).frame
    test.loc[1, "flight"] = 99  # a row the champion's table does not have

    inputs, found = champion_inputs(frames(), flights_config, test, KEY)

    assert found.tolist() == [True, False, True] and len(inputs) == 3


def test_a_champion_needing_data_that_is_gone_is_a_clear_error(flights_config: RetrainConfig):
    test = build_training_table(frames(), flights_config).frame
    gone = {name: frame for name, frame in frames().items() if name != "planes"}

    with pytest.raises(ValueError, match="its features need 'planes'"):
        champion_inputs(gone, flights_config, test, KEY)


def test_test_months_the_champion_was_trained_on_in_its_time_zone():
    # 2013-12-01 03:00 UTC is still November in New York.
    times = pd.to_datetime(["2013-12-01 03:00", "2013-12-15 12:00"], utc=True)
    test = pd.DataFrame({"time_hour": times})

    months, unseen = trained_months_in(
        ["2013-10", "2013-11"], test, "time_hour", "America/New_York"
    )

    assert months == ["2013-11"] and unseen.tolist() == [False, True]
    assert trained_months_in(["2013-10", "2013-11"], test, "time_hour", "UTC")[0] == []


def test_slices_are_gated_only_when_large_enough_and_losing_too_much():
    y = np.array([1, 0] * 300 + [1, 0] * 5)
    carrier = np.array(["UA"] * 400 + ["AA"] * 200 + ["HA"] * 10)
    champion = np.where(y == 1, 0.9, 0.1).astype(float)
    challenger = champion.copy()
    challenger[:400] = np.where(y[:400] == 1, 0.4, 0.6)  # UA: perfectly wrong now
    challenger[600:] = 0.5  # HA: tied, but only 10 rows
    config = PromotionConfig(slice_min_rows=100, slice_tolerance=0.02)

    rows = slice_table(
        y, challenger, champion, pd.DataFrame({"carrier": carrier}), GATE_METRICS["roc_auc"], config
    )

    by = {r.value: r for r in rows}
    assert [r.value for r in rows] == ["UA", "HA", "AA"]  # worst change first
    assert by["UA"].loses and by["UA"].change == pytest.approx(-1.0) and by["UA"].rows == 400
    assert by["AA"].gated and not by["AA"].loses
    assert not by["HA"].gated and not by["HA"].loses


def test_without_a_champion_the_slice_table_has_the_challenger_only():
    y = np.array([1, 0, 1, 0])
    rows = slice_table(
        y,
        np.array([0.9, 0.1, 0.8, 0.2]),
        None,
        pd.DataFrame({"origin": ["EWR", "EWR", "JFK", "JFK"]}),
        GATE_METRICS["roc_auc"],
        PromotionConfig(),
    )
    assert [(r.value, r.challenger, r.champion) for r in rows] == [
        ("EWR", 1.0, None),
        ("JFK", 1.0, None),
    ]
