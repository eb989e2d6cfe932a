"""The synthetic years of `make synth`: same weekdays and hours, near the same dates, no clashes."""

import pandas as pd
import pytest

from bench.synth import shift_days, synthetic_flights, synthetic_weather


def _flights() -> pd.DataFrame:
    local = pd.to_datetime(
        ["2013-01-01 05:15", "2013-03-10 09:00", "2013-07-04 17:45", "2013-12-31 23:59"]
    )
    utc = local.tz_localize("America/New_York").floor("h").tz_convert("UTC")
    return pd.DataFrame(
        {
            "year": local.year,
            "month": local.month,
            "day": local.day,
            "hour": local.hour,
            "minute": local.minute,
            "carrier": ["UA", "AA", "B6", "DL"],
            "flight": [1, 2, 3, 4],
            "origin": ["EWR", "JFK", "LGA", "JFK"],
            "dep_delay": [0.0, 30.0, None, -5.0],
            "arr_delay": [10.0, 45.0, None, -2.0],
            "time_hour": utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )


@pytest.mark.parametrize("years_back", [1, 2, 9])
def test_a_synthetic_year_keeps_weekday_hour_and_nearly_the_date(years_back: int) -> None:
    original = _flights()
    moved = synthetic_flights(original, years_back)
    assert set(moved["year"]) == {2013 - years_back}
    kept = original.set_index("flight").loc[moved["flight"]]
    before = pd.to_datetime(kept[["year", "month", "day"]]).reset_index(drop=True)
    after = pd.to_datetime(moved[["year", "month", "day"]])
    assert (before.dt.day_of_week == after.dt.day_of_week).all()
    assert (moved["hour"].to_numpy() == kept["hour"].to_numpy()).all()
    # Within three days of the same calendar date, one year per years_back earlier.
    same_date = before - pd.DateOffset(years=years_back)
    assert ((after - same_date).abs() <= pd.Timedelta(days=3)).all()
    # time_hour is the local departure hour in UTC, as in the demo.
    local = (after + pd.to_timedelta(moved["hour"], unit="h")).dt.tz_localize("America/New_York")
    assert (pd.to_datetime(moved["time_hour"], utc=True) == local.dt.tz_convert("UTC")).all()


def test_rows_moved_out_of_their_year_are_dropped_and_delays_jittered() -> None:
    original = _flights()
    moved = synthetic_flights(original, 1)
    # 52 weeks back: 2013-01-01 becomes 2012-01-03, 2013-12-31 would be 2013-01-01 (dropped).
    assert shift_days(1) == -364
    assert moved["flight"].tolist() == [1, 2, 3]
    assert moved["arr_delay"].isna().sum() == 1  # a missing delay stays missing
    kept = original.iloc[:3]
    arrival = (moved["arr_delay"] - kept["arr_delay"]).dropna()
    departure = (moved["dep_delay"] - kept["dep_delay"]).dropna()
    assert (arrival == departure).all()  # one noise per flight: the delay still adds up


def test_two_synthetic_years_share_no_flight_day() -> None:
    flights = _flights()
    days = [
        set(pd.to_datetime(synthetic_flights(flights, k)[["year", "month", "day"]])) for k in (1, 2)
    ]
    assert not days[0] & days[1]


def test_weather_moves_with_the_flights_and_stays_in_range() -> None:
    weather = pd.DataFrame(
        {
            "station": ["EWR", "EWR"],
            "observed_at": ["2013-03-01T00:00:00Z", "2013-03-01T01:00:00Z"],
            "temp_c": [5.6, 5.6],
            "dewp_c": [-2.8, -1.7],
            "humid": [99.9, 54.7],
            "pressure": [1002.1, 1002.5],
        }
    )
    moved = synthetic_weather(weather, 1)
    observed = pd.to_datetime(moved["observed_at"], utc=True)
    expected = pd.to_datetime(weather["observed_at"], utc=True) + pd.Timedelta(days=-364)
    assert (observed == expected).all()
    assert moved["humid"].between(0, 100).all()
    assert (moved["temp_c"] - weather["temp_c"]).abs().max() < 3
