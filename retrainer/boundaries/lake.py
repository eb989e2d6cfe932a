"""The data lake: zones ``raw/``, ``validated/``, ``quarantine/`` and a manifest.

Format: Parquet files plus one JSON manifest (the commit log). A delivery's files are
written first, each atomically (temp file + rename), and the manifest entry last, also
atomically: a reader sees only files the manifest lists, so a crash mid-write leaves no
partial partition visible, and a re-run rewrites the same file names with the same
content. A delivery whose content hash is in the manifest is never ingested again.
Single writer: the deployments' lake-writer lock guarantees it.
"""

import json
import os
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from retrainer.domain.audit import SourceAudit, audit_source
from retrainer.domain.deliveries import DeliveryRecord

MANIFEST = "_manifest.json"


def _atomic_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def _atomic_parquet(path: Path, frame: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)


class EmptyLakeError(RuntimeError):
    """A source has no validated rows yet: nothing to train on."""


class Lake:
    """A local lake rooted at one folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def manifest_path(self) -> Path:
        """The manifest file: the lake's commit log."""
        return self.root / MANIFEST

    def records(self) -> list[DeliveryRecord]:
        """All committed deliveries, in commit order."""
        if not self.manifest_path.exists():
            return []
        entries = json.loads(self.manifest_path.read_text())["deliveries"]
        return [DeliveryRecord(**entry) for entry in entries]

    def seen(self, sha256: str) -> DeliveryRecord | None:
        """The record of an already ingested delivery with this content hash, if any."""
        return next((r for r in self.records() if r.sha256 == sha256), None)

    def store_raw(self, source: str, sha256: str, suffix: str, content: bytes) -> str:
        """Keep the delivery exactly as received (idempotent: the name is its hash)."""
        rel = f"raw/{source}/{sha256}{suffix}"
        path = self.root / rel
        if not path.exists():
            _atomic_bytes(path, content)
        return rel

    def commit(
        self,
        record: DeliveryRecord,
        accepted: pd.DataFrame,
        quarantined: pd.DataFrame,
        partition_column: str | None,
    ) -> DeliveryRecord:
        """Write a delivery's validated partitions and quarantine, then its manifest entry."""
        part = f"part-{record.sha256[:16]}.parquet"
        if len(accepted):
            for rel, rows in self._partitions(record.source, accepted, partition_column):
                _atomic_parquet(self.root / rel / part, rows)
                record.validated[f"{rel}/{part}"] = len(rows)
        if len(quarantined):
            record.quarantine = f"quarantine/{record.source}/{part}"
            _atomic_parquet(self.root / record.quarantine, quarantined)
        # A rejected delivery retried (after its expectation was fixed) replaces its entry.
        kept = [asdict(r) for r in self.records() if r.sha256 != record.sha256]
        entries = [*kept, asdict(record)]
        _atomic_bytes(self.manifest_path, json.dumps({"deliveries": entries}, indent=1).encode())
        return record

    @staticmethod
    def _partitions(source: str, frame: pd.DataFrame, column: str | None):
        if column is None:
            yield f"validated/{source}", frame
            return
        stamp = frame[column].dt.tz_convert("UTC")
        for (year, month), rows in frame.groupby([stamp.dt.year, stamp.dt.month], sort=True):
            yield f"validated/{source}/year={year}/month={month:02d}", rows

    def read_validated(self, source: str, columns: list[str] | None = None) -> pd.DataFrame:
        """All accepted rows of ``source`` (only files the manifest lists)."""
        paths = [p for r in self.records() if r.source == source for p in r.validated]
        if not paths:
            return pd.DataFrame(columns=columns or [])
        frames = [pd.read_parquet(self.root / p, columns=columns) for p in paths]
        return pd.concat(frames, ignore_index=True)

    def read_sources(self, sources: list[str]) -> dict[str, pd.DataFrame]:
        """Every named source's accepted rows; an error naming the sources with none."""
        frames = {source: self.read_validated(source) for source in sources}
        empty = [name for name, frame in frames.items() if frame.empty]
        if empty:
            raise EmptyLakeError(
                f"no validated data for sources {empty}: deliver data first "
                "(`retrainer land --month N` for the demo)"
            )
        return frames

    def read_quarantine(self, source: str | None = None) -> pd.DataFrame:
        """All quarantined rows (of one source, or all), with their source."""
        frames = [
            pd.read_parquet(self.root / r.quarantine).assign(_source=r.source, _delivery=r.name)
            for r in self.records()
            if r.quarantine and (source is None or r.source == source)
        ]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def audit(
        self,
        sources: list[str],
        validated: dict[str, pd.DataFrame] | None = None,
        time_columns: dict[str, str | None] | None = None,
        timezone: str | None = None,
    ) -> list[SourceAudit]:
        """Audit every source: ``validated`` holds accepted rows the caller has read already.

        ``time_columns`` and ``timezone``: show each partition's months in that time zone.
        """
        validated = validated or {}
        time_columns = time_columns or {}
        return [
            audit_source(
                source,
                [r for r in self.records() if r.source == source],
                validated[source] if source in validated else self.read_validated(source),
                self.read_quarantine(source),
                time_columns.get(source),
                timezone,
            )
            for source in sources
        ]
