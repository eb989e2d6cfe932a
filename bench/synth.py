"""Synthetic landing data N times the demo: 2013 plus N - 1 earlier years built from it.

Year ``2013 - k`` is 2013 moved back by the whole number of weeks closest to ``k`` years, so
every flight keeps its weekday, its local hour and minute, and lands within three days of the
same calendar date: months, weekdays and hours keep their pattern. Rows moved outside their
target year are dropped (a few days at the year's edges), so no two years share a flight key
or a weather reading. Delays and weather readings get a little noise, so a synthetic year is
not an exact twin of 2013 (twins of the test days in training inflate the test score). The
planes register is the same table for every year.

``python -m bench.synth LANDING YEARS`` (``make synth YEARS=3``) writes the demo's 12 months
of 2013 and ``YEARS - 1`` synthetic years into ``LANDING``, in the demo's own formats.
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from retrainer.boundaries import demo

LOCAL = "America/New_York"
WEEKS_PER_YEAR = 365.2425 / 7
DELAY_NOISE_MINUTES = 8.0
# Noise per weather reading: about a sensor's own error, far below the spike checks' limits.
WEATHER_NOISE = {"temp_c": 0.5, "dewp_c": 0.5, "humid": 2.0, "pressure": 0.8}


def shift_days(years_back: int) -> int:
    """Days to move 2013 back by ``years_back`` years: whole weeks, so weekdays stay."""
    return -7 * round(years_back * WEEKS_PER_YEAR)


def synthetic_flights(flights: pd.DataFrame, years_back: int, seed: int = 0) -> pd.DataFrame:
    """The demo's flights moved back ``years_back`` years (see the module), delays jittered."""
    days = pd.Timedelta(days=shift_days(years_back))
    target = demo.YEAR - years_back
    local = pd.to_datetime(flights[["year", "month", "day"]]) + days
    kept = local.dt.year == target
    out = flights[kept].copy()
    local = local[kept]
    out["year"], out["month"], out["day"] = local.dt.year, local.dt.month, local.dt.day
    departure = local + pd.to_timedelta(out["hour"], unit="h")
    out["time_hour"] = (
        departure.dt.tz_localize(LOCAL, ambiguous=False, nonexistent="shift_forward")
        .dt.tz_convert("UTC")
        .dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    noise = np.random.default_rng(seed + years_back).normal(0, DELAY_NOISE_MINUTES, len(out))
    noise = np.round(noise)
    out["dep_delay"] = out["dep_delay"] + noise
    out["arr_delay"] = out["arr_delay"] + noise
    return out.reset_index(drop=True)


def synthetic_weather(weather: pd.DataFrame, years_back: int, seed: int = 0) -> pd.DataFrame:
    """The demo's weather feed (its own schema) moved back like the flights, readings jittered."""
    observed = pd.to_datetime(weather["observed_at"], utc=True) + pd.Timedelta(
        days=shift_days(years_back)
    )
    kept = observed.dt.year == demo.YEAR - years_back
    out = weather[kept].copy()
    out["observed_at"] = observed[kept].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    rng = np.random.default_rng(seed + 1000 + years_back)
    for column, sd in WEATHER_NOISE.items():
        out[column] = (out[column] + rng.normal(0, sd, len(out))).round(2)
    out["humid"] = out["humid"].clip(0, 100)
    return out.reset_index(drop=True)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not (path.exists() and path.read_bytes() == data):
        path.write_bytes(data)


def write_year(landing: Path, years_back: int, every: int = 1) -> int:
    """One synthetic year's monthly flight files and weekly feed batches; its flight count.

    ``every`` > 1 keeps every n-th flight (weather and planes stay whole), as ``demo`` does.
    """
    flights = synthetic_flights(demo._dataset("flights").iloc[::every], years_back)
    feed = pd.concat([demo.weather_month(m) for m in demo.MONTHS], ignore_index=True)
    weather = synthetic_weather(feed, years_back)
    year = demo.YEAR - years_back
    for month, rows in flights.groupby("month"):
        csv = rows.to_csv(index=False).encode()
        _write(landing / "flights" / f"flights_{year}_{month:02d}.csv", csv)
    observed = pd.to_datetime(weather["observed_at"], utc=True)
    batch = (observed.dt.day - 1) // demo.FEED_BATCH_DAYS * demo.FEED_BATCH_DAYS + 1
    for (month, start), rows in weather.groupby([observed.dt.month, batch]):
        lines = rows.to_json(orient="records", lines=True).encode()
        _write(landing / "weather" / f"weather_{year}_{month:02d}_{start:02d}.jsonl", lines)
    return len(flights)


def build(landing: Path, years: int, every: int = 1) -> int:
    """The demo's 2013 and ``years - 1`` synthetic years before it in ``landing``; flights."""
    rows = 0
    for month in demo.MONTHS:
        demo.land_month(landing, month, every)
        rows += len(demo.flights_month(month, every))
    for years_back in range(1, years):
        rows += write_year(landing, years_back, every)
    return rows


def main() -> None:
    """Build a landing folder of ``YEARS`` times the demo."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("landing", type=Path)
    parser.add_argument("years", type=int)
    parser.add_argument("--every", type=int, default=1, help="keep every n-th flight")
    args = parser.parse_args()
    rows = build(args.landing, args.years, args.every)
    print(f"{rows} flights in {args.years} year(s) landed in {args.landing}")


if __name__ == "__main__":
    main()
