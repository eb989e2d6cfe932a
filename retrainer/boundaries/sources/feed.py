"""An append-only sensor feed delivered in batches of JSON-lines records."""

import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from retrainer.boundaries.sources.base import Delivery, require_utf8
from retrainer.domain.config import SourceConfig


def read_jsonl(content: bytes) -> pd.DataFrame:
    """Parse JSON-lines; every line must be one JSON object."""
    require_utf8(content)
    # dtype=False keeps every value as sent, dates included (convert_dates is deprecated).
    return pd.read_json(io.BytesIO(content), lines=True, dtype=False)


def deliveries(source: SourceConfig, landing: Path) -> Iterator[Delivery]:
    """One delivery per batch file matching the source's glob."""
    for path in sorted(landing.glob(source.path or "")):
        if path.is_file() and not path.name.startswith("."):
            yield Delivery(source.name, path.name, path.read_bytes(), ".jsonl", read_jsonl)
