"""A table in a SQL database, read through SQLAlchemy (SQLite by default, PostgreSQL alike).

Each ingestion takes a snapshot of the table; the snapshot serialised as CSV is what the
raw zone keeps, so an unchanged table is an already-seen delivery.
"""

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from retrainer.boundaries.settings import secret
from retrainer.boundaries.sources.base import Delivery
from retrainer.boundaries.sources.files import read_csv
from retrainer.domain.config import SourceConfig


def connection_url(source: SourceConfig, landing: Path) -> sa.URL:
    """The source's URL with the landing folder filled in and its password added, if any."""
    url = sa.make_url((source.url or "").replace("{landing}", str(landing)))
    if source.password_env:
        url = url.set(password=secret(source.password_env).get_secret_value())
    return url


def timeout_arguments(url: sa.URL, seconds: float) -> dict:
    """Driver arguments that bound how long connecting and reading may take.

    A database that accepts the connection and then says nothing would otherwise hold the
    run for ever (the TCP connection never fails by itself).
    """
    if url.drivername.startswith("postgresql"):
        milliseconds = int(seconds * 1000)
        return {
            "connect_timeout": max(1, int(seconds)),
            "options": f"-c statement_timeout={milliseconds}",
        }
    if url.drivername.startswith("sqlite"):
        return {"timeout": seconds}  # how long to wait for another writer's lock
    return {}


def deliveries(source: SourceConfig, landing: Path) -> Iterator[Delivery]:
    """A single delivery: the table's current snapshot, in a stable row order."""
    url = connection_url(source, landing)
    if url.drivername.startswith("sqlite") and not Path(url.database or "").exists():
        return
    # The URL object, never its string: SQLAlchemy masks the password in reprs and errors.
    engine = sa.create_engine(url, connect_args=timeout_arguments(url, source.timeout_seconds))
    try:
        with engine.connect() as conn:
            frame = pd.read_sql_table(source.table or "", conn)
    finally:
        engine.dispose()
    order = [c for c in source.key if c in frame.columns]
    if order:
        frame = frame.sort_values(order, kind="stable")
    content = frame.to_csv(index=False).encode()
    yield Delivery(source.name, f"{source.table}.csv", content, ".csv", read_csv)
