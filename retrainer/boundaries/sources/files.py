"""Files dropped into a landing folder: CSV or Parquet, one delivery per file."""

import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from retrainer.boundaries.sources.base import Delivery, require_utf8
from retrainer.domain.config import SourceConfig


def read_csv(content: bytes) -> pd.DataFrame:
    """Parse CSV strictly: a row with too many fields is an error, not a silent shift."""
    require_utf8(content)
    # dtype=str: types are the schema mapping's job, so a bad value is reported, not guessed.
    frame = pd.read_csv(
        io.BytesIO(content), dtype=str, keep_default_na=False, na_values=[""], on_bad_lines="error"
    )
    if not content.endswith(b"\n"):
        raise ValueError("the file does not end with a newline: truncated in transfer?")
    return frame


def read_parquet(content: bytes) -> pd.DataFrame:
    """Parse a Parquet file."""
    return pd.read_parquet(io.BytesIO(content))


PARSERS = {".csv": read_csv, ".parquet": read_parquet}


def deliveries(source: SourceConfig, landing: Path) -> Iterator[Delivery]:
    """One delivery per CSV or Parquet file matching the source's glob."""
    for path in sorted(landing.glob(source.path or "")):
        parse = PARSERS.get(path.suffix.lower())
        if parse is None or not path.is_file() or path.name.startswith("."):
            continue
        yield Delivery(source.name, path.name, path.read_bytes(), path.suffix.lower(), parse)
