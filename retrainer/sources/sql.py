"""A table in a SQL database, read through SQLAlchemy (SQLite by default, PostgreSQL alike).

Each ingestion takes a snapshot of the table; the snapshot serialised as CSV is what the
raw zone keeps, so an unchanged table is an already-seen delivery.
"""

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from retrainer.config import SourceConfig
from retrainer.sources.base import Delivery
from retrainer.sources.files import read_csv


def deliveries(source: SourceConfig, landing: Path) -> Iterator[Delivery]:
    """A single delivery: the table's current snapshot, in a stable row order."""
    url = (source.url or "").replace("{landing}", str(landing))
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return
    engine = sa.create_engine(url)
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
