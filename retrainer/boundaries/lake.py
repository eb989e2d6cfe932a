"""The data lake: zones ``raw/``, ``validated/``, ``quarantine/`` and one manifest per source.

Format: Parquet files plus a JSON manifest per source (its commit log,
``_manifests/<source>.json``). A delivery's files are written first, and the manifest last:
a reader sees only files the manifest lists, so a crash mid-write leaves no partial
partition visible, and a re-run rewrites the same file names with the same content. A
delivery whose content hash is in the manifest is never ingested again.

Durable as well as atomic: every file is written to a temporary name, fsynced, renamed into
place, and its directory fsynced, so a power cut cannot leave a manifest that names a file
the disk never got. One writer at a time: ``Lake.writer()`` is an ``flock`` on a file in the
lake, which holds with or without a Prefect server and is released by the kernel when its
holder dies (even by SIGKILL). Whoever takes it first removes what a killed writer left:
temporary files, and files a rewrite made obsolete.

A rewrite (a correction that replaces a row, an erasure) writes the new version of a file
under a new name and commits the manifest that points at it; the old file is listed as
obsolete in that same commit and deleted afterwards. Readers never see a half-rewritten
partition, and a crash between the commit and the deletion is finished by the next writer.
"""

import errno
import hashlib
import io
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from retrainer.boundaries.locks import file_lock
from retrainer.domain.audit import SourceAudit, audit_source
from retrainer.domain.deliveries import DeliveryRecord

MANIFESTS = "_manifests"
LEGACY_MANIFEST = "_manifest.json"  # before one manifest per source: split on first write
ERASURES = "_erasures.json"
LOCK = ".writer.lock"
TMP_SUFFIX = ".tmp"
FILE_COLUMN = "_file"
# A full disk or quota will not clear by itself within a retry's backoff.
NOT_TRANSIENT = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


class EmptyLakeError(RuntimeError):
    """A source has no validated rows yet: nothing to train on."""


class LakeWriteError(RuntimeError):
    """A file could not be written into the lake; nothing of the delivery was committed."""

    def __init__(self, path: Path, error: OSError) -> None:
        self.errno = error.errno
        hint = (
            "free space on that disk and run again"
            if error.errno in (errno.ENOSPC, errno.EDQUOT)
            else "fix the file system problem and run again"
        )
        super().__init__(
            f"cannot write {path}: {error.strerror or error} (errno {error.errno}); the "
            f"delivery was not committed and its temporary file removed: {hint}"
        )

    @property
    def transient(self) -> bool:
        """True for errors that may pass by themselves (not a full disk or a permission)."""
        return self.errno not in NOT_TRANSIENT


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_dirs(directory: Path) -> None:
    """Create ``directory`` and its missing parents, each entry fsynced into its parent."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for created in reversed(missing):
        created.mkdir(exist_ok=True)
        _fsync_dir(created.parent)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically and durably (temp file, fsync, rename, fsync dir).

    On any error the temporary file is removed and ``LakeWriteError`` says what failed.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")
    try:
        _make_dirs(path.parent)
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
        _fsync_dir(path.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise LakeWriteError(path, exc) from exc


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as Parquet bytes (no index)."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def content_name(stem: str, data: bytes) -> str:
    """``<stem>.<hash8>.parquet``: a rewritten file's name, new whenever its content is."""
    return f"{stem}.{hashlib.sha256(data).hexdigest()[:8]}.parquet"


class Lake:
    """A local lake rooted at one folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # --- the commit log ---------------------------------------------------------------------

    def manifest_path(self, source: str) -> Path:
        """The manifest of one source: its commit log."""
        return self.root / MANIFESTS / f"{source}.json"

    def _manifest(self, source: str) -> dict:
        path = self.manifest_path(source)
        if path.exists():
            return json.loads(path.read_text())
        legacy = self.root / LEGACY_MANIFEST
        if legacy.exists():
            entries = json.loads(legacy.read_text())["deliveries"]
            return {"deliveries": [e for e in entries if e["source"] == source], "obsolete": []}
        return {"deliveries": [], "obsolete": []}

    def sources(self) -> list[str]:
        """Every source with a manifest (or an entry in the legacy manifest)."""
        names = {p.stem for p in (self.root / MANIFESTS).glob("*.json")}
        legacy = self.root / LEGACY_MANIFEST
        if legacy.exists():
            names |= {e["source"] for e in json.loads(legacy.read_text())["deliveries"]}
        return sorted(names)

    def records(self, source: str | None = None) -> list[DeliveryRecord]:
        """The committed deliveries of ``source`` (or of every source), in commit order."""
        names = [source] if source else self.sources()
        return [
            DeliveryRecord(**entry)
            for name in names
            for entry in self._manifest(name)["deliveries"]
        ]

    def seen(self, source: str, sha256: str) -> list[DeliveryRecord]:
        """The records of ``source`` with this content hash (now or before an erasure)."""
        return [r for r in self.records(source) if r.known_as(sha256)]

    def _write_manifest(
        self, source: str, records: list[DeliveryRecord], obsolete: list[str]
    ) -> None:
        document = {"deliveries": [asdict(r) for r in records], "obsolete": sorted(set(obsolete))}
        atomic_write(self.manifest_path(source), json.dumps(document, indent=1).encode())

    # --- one writer -------------------------------------------------------------------------

    @contextmanager
    def writer(
        self, timeout: float | None = None, waiting: Callable[[], None] | None = None
    ) -> Iterator["Lake"]:
        """Hold the lake's one writer slot for the block, then tidy what a crash left.

        Waits up to ``timeout`` seconds (None: as long as it takes) for another writer, and
        calls ``waiting`` once if it has to wait.
        """
        with file_lock(self.root / LOCK, timeout, waiting):
            self._migrate_legacy_manifest()
            self.remove_leftovers()
            yield self

    def _migrate_legacy_manifest(self) -> None:
        legacy = self.root / LEGACY_MANIFEST
        if not legacy.exists():
            return
        for source in self.sources():
            if not self.manifest_path(source).exists():
                manifest = self._manifest(source)
                records = [DeliveryRecord(**e) for e in manifest["deliveries"]]
                self._write_manifest(source, records, manifest["obsolete"])
        legacy.unlink()
        _fsync_dir(self.root)

    def remove_leftovers(self) -> list[Path]:
        """Delete temporary files of killed writers and files obsolete since a rewrite.

        Only safe while holding ``writer()``: then no other process is mid-write.
        """
        removed = [p for p in self.root.rglob(f".*{TMP_SUFFIX}") if p.is_file()]
        for path in removed:
            path.unlink()
        for source in self.sources():
            manifest = self._manifest(source)
            if manifest.get("obsolete"):
                removed += [self.root / rel for rel in manifest["obsolete"]]
                records = [DeliveryRecord(**e) for e in manifest["deliveries"]]
                self.replace(source, records, manifest["obsolete"])
        return removed

    # --- writing ----------------------------------------------------------------------------

    def store_raw(self, source: str, sha256: str, suffix: str, content: bytes) -> str:
        """Keep the delivery exactly as received (idempotent: the name is its hash)."""
        rel = f"raw/{source}/{sha256}{suffix}"
        path = self.root / rel
        if not path.exists():
            atomic_write(path, content)
        return rel

    def commit(
        self,
        record: DeliveryRecord,
        accepted: pd.DataFrame,
        quarantined: pd.DataFrame,
        partition_column: str | None,
        rewrites: dict[str, pd.DataFrame] | None = None,
    ) -> DeliveryRecord:
        """Write a delivery's validated partitions and quarantine, then its manifest entry.

        ``rewrites`` maps validated files of earlier deliveries to their new content (rows
        a correction replaced are left out); they change in the same manifest commit.
        """
        part = f"part-{record.sha256[:16]}.parquet"
        if len(accepted):
            for rel, rows in self._partitions(record.source, accepted, partition_column):
                atomic_write(self.root / rel / part, parquet_bytes(rows))
                record.validated[f"{rel}/{part}"] = len(rows)
        if len(quarantined):
            record.quarantine = f"quarantine/{record.source}/{part}"
            atomic_write(self.root / record.quarantine, parquet_bytes(quarantined))
        # A rejected delivery judged again (its rules changed) replaces its entry.
        kept = [
            r
            for r in self.records(record.source)
            if not (r.sha256 == record.sha256 and r.name == record.name)
            and not (record.status == "accepted" and r.sha256 == record.sha256)
        ]
        obsolete = self._rewrite_validated(kept, rewrites or {})
        self.replace(record.source, [*kept, record], obsolete)
        return record

    def _rewrite_validated(
        self, records: list[DeliveryRecord], rewrites: dict[str, pd.DataFrame]
    ) -> list[str]:
        """Write the new versions of validated files and point their records at them.

        Returns the old paths, obsolete once the manifest is committed.
        """
        for old, rows in rewrites.items():
            owner = next(r for r in records if old in r.validated)
            del owner.validated[old]
            if len(rows):
                data = parquet_bytes(rows.drop(columns=[FILE_COLUMN], errors="ignore"))
                stem = Path(old).name.split(".")[0]
                new = f"{Path(old).parent}/{content_name(stem, data)}"
                atomic_write(self.root / new, data)
                owner.validated[new] = len(rows)
            owner.accepted = sum(owner.validated.values())
        return list(rewrites)

    def replace(self, source: str, records: list[DeliveryRecord], obsolete: list[str]) -> None:
        """Commit ``records`` as the manifest of ``source``; then delete ``obsolete`` files.

        The files the records name must be written already. The obsolete ones are listed in
        the commit, so a crash before their deletion is finished by the next writer.
        """
        self._write_manifest(source, records, obsolete)
        if obsolete:
            for rel in obsolete:
                (self.root / rel).unlink(missing_ok=True)
            self._write_manifest(source, records, [])

    @staticmethod
    def _partitions(source: str, frame: pd.DataFrame, column: str | None):
        if column is None:
            yield f"validated/{source}", frame
            return
        stamp = frame[column].dt.tz_convert("UTC")
        for (year, month), rows in frame.groupby([stamp.dt.year, stamp.dt.month], sort=True):
            yield f"validated/{source}/year={year}/month={month:02d}", rows

    # --- reading ----------------------------------------------------------------------------

    def read_file(self, rel: str) -> pd.DataFrame:
        """One file of the lake, by its path relative to the root."""
        return pd.read_parquet(self.root / rel)

    def read_validated(
        self, source: str, columns: list[str] | None = None, with_file: bool = False
    ) -> pd.DataFrame:
        """All accepted rows of ``source`` (only files the manifest lists).

        ``with_file`` adds a ``_file`` column: the partition file each row lives in.
        """
        paths = [p for r in self.records(source) for p in r.validated]
        if not paths:
            return pd.DataFrame(columns=[*(columns or []), *([FILE_COLUMN] if with_file else [])])
        frames = [pd.read_parquet(self.root / p, columns=columns) for p in paths]
        if with_file:
            frames = [f.assign(**{FILE_COLUMN: p}) for f, p in zip(frames, paths, strict=True)]
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
            for r in self.records(source)
            if r.quarantine
        ]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def fingerprint(self, sources: list[str]) -> str:
        """A hash of what the named sources' manifests hold: changes whenever their data does."""
        digest = hashlib.sha256()
        for source in sorted(sources):
            path = self.manifest_path(source)
            digest.update(source.encode())
            digest.update(path.read_bytes() if path.exists() else b"-")
        return digest.hexdigest()

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
                self.records(source),
                validated[source] if source in validated else self.read_validated(source),
                self.read_quarantine(source),
                time_columns.get(source),
                timezone,
            )
            for source in sources
        ]

    # --- erasures ---------------------------------------------------------------------------

    def erasures(self) -> list[dict]:
        """The erasure log: what was erased, when and how many rows (never the value)."""
        path = self.root / ERASURES
        return json.loads(path.read_text()) if path.exists() else []

    def log_erasure(self, entry: dict) -> None:
        """Append one erasure to the log."""
        atomic_write(self.root / ERASURES, json.dumps([*self.erasures(), entry], indent=1).encode())
