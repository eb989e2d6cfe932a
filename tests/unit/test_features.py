"""Training table, leakage guard and time split on tiny inline frames."""

import pandas as pd
import pytest

from retrainer.domain.config import RetrainConfig
from retrainer.domain.features import LeakageError, SplitError, build_training_table, time_split


def frames() -> dict[str, pd.DataFrame]:
    t = pd.to_datetime(["2013-01-01 10:00", "2013-01-01 12:00", "2013-01-01 13:00"], utc=True)
    flights = pd.DataFrame(
        {
            "year": 2013,
            "month": 1,
            "day": 1,
            "carrier": ["AA", "UA", "AA"],
            "flight": [1, 2, 3],
            "origin": ["EWR", "EWR", "JFK"],
            "dest": "ORD",
            "time_hour": t,
            "hour": [5, 7, 8],
            "minute": 0,
            "sched_dep_time": [500, 700, 800],
            "sched_arr_time": [800, 1000, 1100],
            "distance": 700.0,
            "tailnum": ["N1", "N2", None],
            "arr_delay": [30.0, 0.0, None],
            "dep_delay": [25.0, 0.0, None],
        }
    )
    weather = pd.DataFrame(
        {
            "origin": ["EWR", "EWR", "EWR", "JFK"],
            "time_hour": pd.to_datetime(
                ["2013-01-01 07:00", "2013-01-01 08:00", "2013-01-01 11:00", "2013-01-01 11:00"],
                utc=True,
            ),
            **{
                c: [1.0, 2.0, 3.0, 4.0]
                for c in (
                    "temp",
                    "dewp",
                    "humid",
                    "wind_dir",
                    "wind_speed",
                    "wind_gust",
                    "precip",
                    "pressure",
                    "visib",
                )
            },
        }
    )
    planes = pd.DataFrame(
        {
            "tailnum": ["N1", "N2"],
            "year": [2000.0, 2010.0],
            "seats": [100.0, 200.0],
            "engines": [2.0, 2.0],
        }
    )
    return {"flights": flights, "weather": weather, "planes": planes}


def test_weather_is_joined_as_of_the_prediction_time_never_after(flights_config: RetrainConfig):
    table = build_training_table(frames(), flights_config).frame
    # 10:00 departure, 2 h ahead: cutoff 08:00 -> the 08:00 reading, not the 11:00 one.
    first = table[table["flight"] == 1].iloc[0]
    assert first["weather_temp"] == 2.0
    # 12:00 departure: cutoff 10:00 -> 08:00 reading (within the 3 h tolerance).
    assert table.loc[table["flight"] == 2, "weather_temp"].iloc[0] == 2.0


def test_label_threshold_and_rows_without_label(flights_config: RetrainConfig):
    result = build_training_table(frames(), flights_config)
    assert result.frame["delayed"].tolist() == [1, 0]
    assert result.rows_without_label == 1
    assert result.frame["plane_seats"].tolist() == [100.0, 200.0]
    assert "dep_delay" not in result.frame and "arr_delay" not in result.frame


def test_leakage_guard_rejects_post_departure_features(flights_config: RetrainConfig):
    leaky = flights_config.model_copy(deep=True)
    leaky.features.numeric.append("dep_delay")
    with pytest.raises(LeakageError, match=r"\['dep_delay'\] are known only after"):
        build_training_table(frames(), leaky)


def test_time_split_uses_the_latest_months_for_test(flights_config: RetrainConfig):
    months = pd.date_range("2013-01-15", periods=5, freq="MS", tz="UTC") + pd.Timedelta(days=14)
    table = pd.DataFrame({"time_hour": months.repeat(300), "delayed": 0})
    split = time_split(table, flights_config)
    assert split.periods == {
        "train": ["2013-02", "2013-03", "2013-04"],
        "validation": ["2013-05"],
        "test": ["2013-06"],
    }
    assert len(split.test) == 300


def test_time_split_says_what_is_missing(flights_config: RetrainConfig):
    table = pd.DataFrame({"time_hour": pd.to_datetime(["2013-01-10"] * 5, utc=True)})
    with pytest.raises(SplitError, match="covers 1 month"):
        time_split(table, flights_config)
