"""The lake's predictions zone: every batch prediction, keyed by record and model version.

``lake/predictions/<data set>/version=<v>/part-<hash>.parquet`` plus ``_batches.json``, the
zone's commit log (like the lake's manifest): a batch's file is written to a temporary name
and renamed, then its entry is committed, so readers never see half a batch. A file is named
by the SHA-256 of the batch's inputs and version: a batch written again (a re-run after a
crash) lands on the same name. A record is never scored twice by the same version: the
writer drops rows whose (key, version) the zone already holds. Writers take a file lock
under ``$RETRAINER_HOME/locks``, which holds with or without a Prefect server.
"""

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from retrainer.boundaries.locks import file_lock
from retrainer.boundaries.settings import Home
from retrainer.domain.scoring import MODEL, PERIOD, SCORED_AT, VERSION, PredictionBatch

BATCHES = "_batches.json"


@dataclass(frozen=True)
class BatchRecord:
    """One committed prediction batch."""

    file: str
    model: str
    version: str
    rows: int
    periods: list[str]
    input_sha256: str
    scored_at: str
    flow_run_id: str


def _replace(path: Path, write) -> None:
    """Write through ``write(tmp)`` and rename into place: readers see all of it or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(tmp)
    tmp.replace(path)


class PredictionStore:
    """The predictions of one data set."""

    def __init__(self, h: Home, dataset: str) -> None:
        self.root = h.lake / "predictions" / dataset
        self.lock = h.root / "locks" / f"predictions-{dataset}.lock"

    def batches(self) -> list[BatchRecord]:
        """Every committed batch, oldest first."""
        path = self.root / BATCHES
        if not path.exists():
            return []
        return [BatchRecord(**entry) for entry in json.loads(path.read_text())["batches"]]

    def read(self, columns: list[str] | None = None, version: str | None = None) -> pd.DataFrame:
        """The committed predictions (of one version, or all)."""
        files = [b.file for b in self.batches() if version is None or b.version == version]
        if not files:
            return pd.DataFrame(columns=columns or [])
        return pd.concat(
            [pd.read_parquet(self.root / f, columns=columns) for f in files], ignore_index=True
        )

    def write(
        self, batch: PredictionBatch, keys: list[str], flow_run_id: str
    ) -> BatchRecord | None:
        """Commit the batch's rows not yet in the zone; None when there is nothing new."""
        if batch.rows.empty:
            return None
        with file_lock(self.lock):
            rows = batch.rows
            held = self.read(columns=[*keys, VERSION])
            if len(held):
                seen = rows[[*keys, VERSION]].merge(held, how="left", indicator=True)
                rows = rows[(seen["_merge"] == "left_only").to_numpy()]
            if rows.empty:
                return None
            (version,) = rows[VERSION].unique()
            name = f"version={version}/part-{batch.input_sha256[:16]}.parquet"
            _replace(self.root / name, lambda tmp: rows.to_parquet(tmp, index=False))
            record = BatchRecord(
                file=name,
                model=str(rows[MODEL].iloc[0]),
                version=str(version),
                rows=len(rows),
                periods=sorted(rows[PERIOD].unique()),
                input_sha256=batch.input_sha256,
                scored_at=str(rows[SCORED_AT].iloc[0]),
                flow_run_id=flow_run_id,
            )
            kept = [asdict(b) for b in self.batches() if b.file != name]
            log = json.dumps({"batches": [*kept, asdict(record)]}, indent=1).encode()
            _replace(self.root / BATCHES, lambda tmp: tmp.write_bytes(log))
            return record
