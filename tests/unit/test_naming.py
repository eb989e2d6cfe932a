"""Run names: data set and the latest month of base data, in the data set's calendar."""

import pandas as pd

from retrainer.domain.naming import latest_month, run_name


def test_the_latest_month_is_counted_in_the_configured_time_zone():
    # 03:00 UTC on 1 May is still 30 April in New York.
    frame = pd.DataFrame({"t": ["2013-04-02T12:00:00Z", "2013-05-01T03:00:00Z", None]})

    assert latest_month(frame, "t", "America/New_York") == "2013-04"
    assert latest_month(frame, "t", "UTC") == "2013-05"


def test_no_timestamps_give_no_month_and_a_shorter_name():
    frame = pd.DataFrame({"t": pd.Series([], dtype="datetime64[ns, UTC]")})

    assert latest_month(frame, "t", "UTC") is None
    assert run_name("retrain", "flights", None) == "retrain-flights"
    assert run_name("retrain", "flights", "2013-11") == "retrain-flights-2013-11"
