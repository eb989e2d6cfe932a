"""Training table on tiny inline frames: time-correct joins, the guard by times, the label."""

import pandas as pd
import pytest

from retrainer.boundaries.settings import config_path
from retrainer.domain.availability import LeakageError
from retrainer.domain.config import RetrainConfig, TimeExpr, load_config
from retrainer.domain.features import TargetError, TrainingTable, build_training_table

WEATHER = ("temp", "dewp", "humid", "wind_dir", "wind_speed", "wind_gust", "precip")


def frames() -> dict[str, pd.DataFrame]:
    """Four flights on a January Monday in New York, the weather and two reference tables."""
    flights = pd.DataFrame(
        {
            "year": 2013,
            "month": 1,
            "day": 7,
            "carrier": ["AA", "UA", "AA", "UA"],
            "flight": [1, 2, 3, 4],
            "origin": ["EWR", "EWR", "JFK", "JFK"],
            "dest": "ORD",
            # due 09:40 and 12:00 UTC; 19:30 in New York (00:30 UTC, Tuesday); 15:00
            "time_hour": pd.to_datetime(
                ["2013-01-07 09:00", "2013-01-07 12:00", "2013-01-08 00:00", "2013-01-07 15:00"],
                utc=True,
            ),
            "hour": [4, 7, 19, 10],
            "minute": [40, 0, 30, 0],
            "sched_dep_time": [440, 700, 1930, 1000],
            "sched_arr_time": [700, 1000, 2130, 1200],
            "distance": 700.0,
            "tailnum": ["N1", "N2", None, None],
            "dep_delay": [20.0, 0.0, 0.0, None],  # flight 4 was cancelled
            "air_time": [120.0, 110.0, 130.0, None],
            "arr_time": [730.0, 1000.0, 2140.0, None],
            "arr_delay": [30.0, 0.0, 10.0, None],
            "churned": "No",
        }
    )
    labels = [
        "2013-01-07 03:00",
        "2013-01-07 06:00",
        "2013-01-07 07:00",
        "2013-01-07 09:00",
        "2013-01-07 21:00",
    ]
    weather = pd.DataFrame(
        {
            "origin": ["EWR", "EWR", "EWR", "EWR", "JFK"],
            "time_hour": pd.to_datetime(labels, utc=True),
            **{c: [0.5, 1.0, 2.0, 3.0, 4.0] for c in WEATHER},
            "pressure": [1009.0, 1010.0, 1012.0, 1013.0, 1000.0],
            "visib": [10.0, 10.0, 2.0, 5.0, 10.0],
        }
    )
    planes = pd.DataFrame(
        {"tailnum": ["N1", "N2"], "year": [2000.0, 2010.0], "seats": [100.0, 200.0]}
    ).assign(engines=2.0)
    airports = pd.DataFrame(
        {"dest": ["ORD"], "tzone": ["America/Chicago"], "lat": [41.9], "lon": [-87.9]}
    )
    return {"flights": flights, "weather": weather, "planes": planes, "airports": airports}


@pytest.fixture(scope="module")
def built() -> TrainingTable:
    """The demo config's training table of ``frames()``, built once for the module."""
    return build_training_table(frames(), load_config(config_path("flights")))


@pytest.fixture
def table(built: TrainingTable) -> pd.DataFrame:
    return built.frame.set_index("flight")


def test_weather_is_the_latest_reading_published_before_the_prediction_time(table):
    # Due 09:40: prediction time 07:40, to the minute. The 06:00 reading is published at
    # 07:00 (60 minutes after its label), the 07:00 one only at 08:00.
    assert table.loc[1, "weather_temp"] == 1.0
    # Due 12:00, prediction time 10:00: the 09:00 reading comes out at 10:00, not before.
    assert table.loc[2, "weather_temp"] == 2.0
    # Over the 3 h before 10:00: the readings published at 07:00 and 08:00.
    assert table.loc[2, "wx_visib_min_3h_origin"] == 2.0
    assert table.loc[2, "wx_pressure_change_3h_origin"] == pytest.approx(1012.0 - 1009.0)
    assert table.loc[2, "wx_pressure_age_origin"] == 120.0


def test_day_of_week_is_local(table):
    # 19:30 on Monday 7 January in New York is Tuesday 00:30 in UTC.
    assert table.loc[3, "day_of_week"] == table.loc[1, "day_of_week"] == 0


def test_another_flights_delay_counts_once_it_has_departed(table):
    # Flight 1 (due 09:40) left 20 minutes late, at 10:00 UTC: exactly flight 2's prediction
    # time, so not before it. It is a backlog of one, not yet a known delay.
    assert table.loc[2, "dep_count_3h_origin"] == 0
    assert table.loc[2, "dep_backlog_3h_origin"] == 1
    assert table.loc[2, "sched_scheduled_1h_origin"] == 1  # itself; 09:40 is not within 1 h


def test_label_threshold_and_rows_without_label(built: TrainingTable, table):
    assert table["delayed"].to_dict() == {1: 1, 2: 0, 3: 0}
    assert built.rows_without_label == 1
    assert table.loc[[1, 2], "plane_seats"].tolist() == [100.0, 200.0]
    assert "dep_delay" not in table and "arr_delay" not in table


def test_the_guard_refuses_a_feature_by_when_it_is_known(flights_config: RetrainConfig):
    leaky = flights_config.model_copy(deep=True)
    leaky.features.numeric.append("dep_delay")
    with pytest.raises(LeakageError, match=r"dep_delay: 3 of 4 rows use a value known after"):
        build_training_table(frames(), leaky)


def test_the_guard_checks_times_not_names(flights_config: RetrainConfig):
    early = flights_config.model_copy(deep=True)
    early.features.numeric.append("dep_delay")
    # Declared known a day before the flight (a forecast, say): accepted, by its time.
    early.source("flights").known_at["dep_delay"] = TimeExpr(offset_minutes=-24 * 60)
    assert "dep_delay" in build_training_table(frames(), early).frame


def test_a_lookup_published_late_is_refused(flights_config: RetrainConfig):
    late = flights_config.model_copy(deep=True)
    late.source("planes").available_after_minutes = 0.0
    late.source("planes").time_column = "built"
    data = frames()
    data["planes"]["built"] = pd.Timestamp("2013-01-07 11:00", tz="UTC")
    with pytest.raises(LeakageError, match="plane_year: 2 of 4 rows"):
        build_training_table(data, late)


def test_a_category_target_and_one_class(flights_config: RetrainConfig):
    config = flights_config.model_copy(deep=True)
    config.target.threshold, config.target.positive = None, "Yes"
    config.target.column = "churned"
    with pytest.raises(TargetError, match=r"churned == 'Yes'\) has a single class.*'No': 4"):
        build_training_table(frames(), config)
