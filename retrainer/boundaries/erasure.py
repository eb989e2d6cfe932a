"""Erasure of one data subject: every row whose column C holds value V, from every zone.

Zones: the landing folder (the files and feed batches sources delivered, and a SQLite
source database kept under the home), ``raw/``, ``validated/`` and ``quarantine/``. Each
file that holds the subject is written again without those rows, under a new name where
the name is its content hash, and the manifest commit that points at the new files lists
the old ones as obsolete: readers never see a half-erased partition, and a crash is
finished by the next writer. A raw copy's record keeps its former content hash, so the
original file, delivered again, is recognised and not ingested a second time.

The erasure log (``lake/_erasures.json``) records what was erased, when and how many rows
per zone, never the value. A personal column is matched in the lake by its pseudonym.
Derived files that may quote values (Great Expectations results, Data Docs, cached stage
results) are deleted; the next run rebuilds them. Models trained before the erasure are not
changed: the next retrain trains without the rows.
"""

import hashlib
import io
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from retrainer.boundaries.lake import Lake, atomic_write, content_name, parquet_bytes
from retrainer.boundaries.sources.feed import read_jsonl
from retrainer.boundaries.sources.files import read_csv, read_parquet
from retrainer.boundaries.sources.sql import connection_url
from retrainer.domain.config import SourceConfig
from retrainer.domain.deliveries import DeliveryRecord
from retrainer.domain.privacy import pseudonym

PARSERS = {".csv": read_csv, ".jsonl": read_jsonl, ".parquet": read_parquet}


@dataclass
class SourceErasure:
    """Rows erased from one source, per zone, and what could not be erased here."""

    rows: dict[str, int] = field(
        default_factory=lambda: {"landing": 0, "raw": 0, "validated": 0, "quarantine": 0}
    )
    files: int = 0
    outside: str | None = None


def _matches(frame: pd.DataFrame, column: str, value: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(False, index=frame.index)
    return (frame[column].astype("string") == value).fillna(False).astype(bool)


def without_rows(content: bytes, suffix: str, source: SourceConfig, column: str, value: str):
    """``content`` without the records whose ``column`` (canonical name) is ``value``.

    Returns the new bytes and how many records went. Text formats lose exactly the lines of
    those records, every other byte kept; Parquet is written again.
    """
    frame = PARSERS[suffix](content).rename(columns=source.schema_mapping.rename)
    hits = _matches(frame.reset_index(drop=True), column, value)
    count = int(hits.sum())
    if not count:
        return content, 0
    if suffix == ".parquet":
        return parquet_bytes(frame[~hits.to_numpy()]), count
    lines = content.splitlines(keepends=True)
    records = [i for i, line in enumerate(lines) if line.strip()][1 if suffix == ".csv" else 0 :]
    if len(records) != len(frame):  # quoted line breaks in a CSV: write the table again
        buffer = io.BytesIO()
        PARSERS[suffix](content)[~hits.to_numpy()].to_csv(buffer, index=False)
        return buffer.getvalue(), count
    dropped = {records[i] for i in hits[hits].index}
    return b"".join(line for i, line in enumerate(lines) if i not in dropped), count


def _erase_frame_file(lake: Lake, rel: str, column: str, value: str) -> tuple[str | None, int, int]:
    """Write a lake file again without the subject: new path (None: no row left), rows
    erased, rows kept."""
    frame = lake.read_file(rel)
    hits = _matches(frame, column, value)
    kept = frame[~hits.to_numpy()]
    if not hits.any() or kept.empty:
        return (rel if kept.equals(frame) else None), int(hits.sum()), len(kept)
    data = parquet_bytes(kept)
    new = f"{Path(rel).parent}/{content_name(Path(rel).name.split('.')[0], data)}"
    atomic_write(lake.root / new, data)
    return new, int(hits.sum()), len(kept)


def _erase_record(
    lake: Lake,
    record: DeliveryRecord,
    source: SourceConfig,
    column: str,
    values: tuple[str, str],
    done: SourceErasure,
) -> list[str]:
    """Erase the subject from one delivery's files; update its record; the obsolete paths."""
    clear, stored = values
    obsolete = []
    for rel in list(record.validated):
        new, count, kept = _erase_frame_file(lake, rel, column, stored)
        if count:
            del record.validated[rel]
            if new:
                record.validated[new] = kept
            obsolete.append(rel)
            done.rows["validated"] += count
            done.files += 1
    record.accepted = sum(record.validated.values())
    if record.quarantine:
        new, count, _ = _erase_frame_file(lake, record.quarantine, column, stored)
        if count:
            obsolete.append(record.quarantine)
            record.quarantine, record.quarantined = new, record.quarantined - count
            done.rows["quarantine"] += count
            done.files += 1
    raw = lake.root / record.raw
    if raw.exists():
        content, count = without_rows(raw.read_bytes(), raw.suffix, source, column, clear)
        if count:
            sha = hashlib.sha256(content).hexdigest()
            record.previous_sha256.append(record.sha256)
            record.sha256, old = sha, record.raw
            record.raw = lake.store_raw(source.name, sha, raw.suffix, content)
            obsolete.append(old)
            done.rows["raw"] += count
            done.files += 1
    return obsolete


def _erase_landing(
    source: SourceConfig, landing: Path, column: str, value: str, done: SourceErasure
) -> None:
    """The subject out of what the source delivered into this home and was not read yet."""
    if source.kind == "sql":
        _erase_sql(source, landing, column, value, done)
        return
    for path in sorted(landing.glob(source.path or "")):
        if not path.is_file() or path.name.startswith(".") or path.suffix not in PARSERS:
            continue
        content, count = without_rows(path.read_bytes(), path.suffix, source, column, value)
        if count:
            atomic_write(path, content)
            done.rows["landing"] += count
            done.files += 1


def _erase_sql(
    source: SourceConfig, landing: Path, column: str, value: str, done: SourceErasure
) -> None:
    url = connection_url(source, landing)
    database = Path(url.database or "")
    if not url.drivername.startswith("sqlite") or not database.is_relative_to(landing):
        done.outside = (
            f"source {source.name} is a database outside this home: erase the subject there "
            "too, or its next snapshot brings the rows back"
        )
        return
    if not database.exists():
        return
    original = {v: k for k, v in source.schema_mapping.rename.items()}.get(column, column)
    engine = sa.create_engine(url)
    try:
        table = sa.Table(source.table or "", sa.MetaData(), autoload_with=engine)
        with engine.begin() as conn:
            deleted = conn.execute(table.delete().where(table.c[original] == value)).rowcount
        if deleted:
            # Deleted rows linger in free pages until the file is rebuilt.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM")
            done.rows["landing"] += deleted
            done.files += 1
    finally:
        engine.dispose()


def forget(
    lake: Lake,
    landing: Path,
    derived: list[Path],
    sources: list[SourceConfig],
    column: str,
    value: str,
    key: bytes | None,
) -> dict:
    """Erase every row whose ``column`` is ``value`` from every zone; log and return the erasure.

    Holds the lake's writer lock throughout. The returned (and logged) entry names the
    column, the time and the counts per source and zone, never the value.
    """
    erased: dict[str, SourceErasure] = {}
    with lake.writer():
        for source in sources:
            if column not in source.schema_mapping.types:
                continue
            personal = column in source.personal_columns
            if personal and key is None:
                raise ValueError(f"{column} is personal in {source.name}: the key is needed")
            stored = pseudonym(value, key) if personal and key else value
            done = erased.setdefault(source.name, SourceErasure())
            _erase_landing(source, landing, column, value, done)
            records = lake.records(source.name)
            obsolete = [
                path
                for record in records
                for path in _erase_record(lake, record, source, column, (value, stored), done)
            ]
            if obsolete:
                lake.replace(source.name, records, obsolete)
        if any(sum(e.rows.values()) for e in erased.values()):
            for directory in derived:
                shutil.rmtree(directory, ignore_errors=True)
        entry = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "column": column,
            "rows": {name: e.rows for name, e in erased.items()},
            "files_rewritten": sum(e.files for e in erased.values()),
            "not_erased_here": [e.outside for e in erased.values() if e.outside],
        }
        lake.log_erasure(entry)
    return entry
