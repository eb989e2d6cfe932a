"""Brute force on the real demo: every time-dependent feature of random rows, recomputed.

Two full months of nycflights13 (March has the DST change) go through the feature builder.
For random labelled flights, each history feature, the as-of weather and the local day of
week are recomputed the slow way: instants from plain ``datetime`` and ``zoneinfo`` per
record (a gate arrival from the local arr_time at the destination), then one filter per row.
"""

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from retrainer.boundaries import demo
from retrainer.boundaries.sources import deliveries
from retrainer.domain.config import RetrainConfig
from retrainer.domain.derived import in_order
from retrainer.domain.features import build_training_table
from retrainer.domain.history_features import CUTOFF, EVENT, KNOWN
from retrainer.domain.schema import ROW_ID, apply_schema
from tests.history_oracle import brute_force

ROWS = 12
NEW_YORK = ZoneInfo("America/New_York")


def gate_arrival(departed: datetime, air_time: float, arr_time: float, zone: str | None):
    """When a flight reached the gate: its local arr_time, first reached after wheels-on."""
    if zone is None or np.isnan(air_time) or np.isnan(arr_time):
        return None
    local = (departed + timedelta(minutes=air_time)).astimezone(ZoneInfo(zone))
    hhmm = int(arr_time) % 2400
    candidate = local.replace(hour=hhmm // 100, minute=hhmm % 100, second=0, microsecond=0)
    if candidate.replace(tzinfo=None) < local.replace(tzinfo=None):
        candidate = (candidate.replace(tzinfo=None) + timedelta(days=1)).replace(
            tzinfo=local.tzinfo
        )
    naive = candidate.replace(tzinfo=None)
    # An hour that happens twice (November) is read as its second occurrence: fold=1.
    arrived = naive.replace(tzinfo=ZoneInfo(zone), fold=1).astimezone(ZoneInfo("UTC"))
    if arrived.astimezone(ZoneInfo(zone)).replace(tzinfo=None) != naive:
        return None  # a local time skipped by the spring DST change never happened
    return arrived


def naive_times(flights: pd.DataFrame, zones: dict[str, str]) -> pd.DataFrame:
    """Scheduled departure, actual departure and gate arrival of each flight, one at a time."""
    rows = []
    for f in flights.itertuples():
        scheduled = f.time_hour.to_pydatetime() + timedelta(minutes=int(f.minute))
        departed = None if np.isnan(f.dep_delay) else scheduled + timedelta(minutes=f.dep_delay)
        arrived = (
            None
            if departed is None
            else gate_arrival(departed, f.air_time, f.arr_time, zones.get(f.dest))
        )
        rows.append((scheduled, departed, arrived))
    times = pd.DataFrame(rows, columns=["scheduled", "departed", "arrived"], index=flights.index)
    return times.apply(lambda c: pd.to_datetime(c, utc=True))


@pytest.fixture(scope="module")
def demo_months(tmp_path_factory) -> dict[str, pd.DataFrame]:
    landing = tmp_path_factory.mktemp("landing")
    for month in (3, 4):
        demo.land_month(landing, month)
    from retrainer.boundaries.settings import config_path
    from retrainer.domain.config import load_config

    return read_landing(landing, load_config(config_path("flights")))


def read_landing(landing, config: RetrainConfig) -> dict[str, pd.DataFrame]:
    """Every source's deliveries, mapped to the canonical schema and de-duplicated (no
    checks, no pseudonyms: the features are recomputed from the values as delivered)."""
    frames = {}
    for source in config.sources:
        mapped = [apply_schema(d.frame(), source).clean for d in deliveries(source, landing)]
        frame = pd.concat(mapped, ignore_index=True).drop(columns=[ROW_ID])
        frames[source.name] = frame.drop_duplicates(subset=source.key, keep="last")
    return frames


def test_every_time_dependent_feature_matches_a_brute_force_recomputation(
    demo_months: dict[str, pd.DataFrame], flights_config: RetrainConfig
):
    table = build_training_table(demo_months, flights_config).frame
    key = flights_config.source("flights").key
    flights = demo_months["flights"].drop_duplicates(key)
    zones = demo_months["airports"].set_index("dest")["tzone"].dropna().to_dict()
    times = naive_times(flights, zones)
    sample = table.sample(ROWS, random_state=3).merge(
        flights.assign(**times)[[*key, "tailnum", "scheduled"]], on=key
    )
    sample = sample.assign(
        **{EVENT: sample["scheduled"], CUTOFF: sample["scheduled"] - timedelta(hours=2)}
    )
    weather = demo_months["weather"]
    weather_events = weather.assign(
        **{EVENT: weather["time_hour"], KNOWN: weather["time_hour"] + timedelta(minutes=60)}
    )
    for spec in flights_config.features.history:
        if spec.source == "weather":
            events = weather_events
        else:
            # A delay is known when the flight leaves or arrives; a timetable value (the
            # distance) or a plain count when the flight is scheduled.
            known = {"arr_delay": times["arrived"], "dep_delay": times["departed"]}
            events = flights.assign(
                **{EVENT: times["scheduled"], KNOWN: known.get(spec.value, times["scheduled"])}
            )
        expected = pd.DataFrame(
            [brute_force(spec, row, events, "America/New_York") for _, row in sample.iterrows()]
        )
        pd.testing.assert_frame_equal(
            sample[expected.columns], expected.astype("float64"), check_exact=False
        )

    # Derived features: the config's expressions evaluated by Python itself, row by row.
    functions = {
        "where": lambda condition, then, otherwise: then if condition else otherwise,
        "min": lambda a, b: b if math.isnan(a) else a if math.isnan(b) else min(a, b),
        "max": lambda a, b: b if math.isnan(a) else a if math.isnan(b) else max(a, b),
        "abs": abs,
        "log1p": math.log1p,
        "missing": lambda x: float(math.isnan(x)),
    }
    formulas = flights_config.features.derived
    order = in_order(formulas, [c for c in sample.columns if c not in formulas])
    for _, row in sample.iterrows():
        values = row.drop(list(formulas)).to_dict()
        for name in order:  # each after the derived features it reads
            values[name] = float(eval(formulas[name], {"__builtins__": {}, **functions}, values))
            assert row[name] == pytest.approx(values[name], nan_ok=True), name

    for _, row in sample.iterrows():
        readings = weather_events[
            (weather_events["origin"] == row["origin"])
            & (weather_events[KNOWN] < row[CUTOFF])
            & (weather_events[KNOWN] >= row[CUTOFF] - timedelta(hours=3))
        ]
        latest = readings.loc[readings[KNOWN].idxmax(), "temp"] if len(readings) else np.nan
        assert row["weather_temp"] == pytest.approx(latest, nan_ok=True)
        assert row["day_of_week"] == row[EVENT].astimezone(NEW_YORK).weekday()
