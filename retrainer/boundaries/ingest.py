"""Ingestion of one delivery: raw zone -> schema mapping -> dedup -> expectations -> lake."""

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from retrainer.boundaries.lake import Lake
from retrainer.boundaries.sources import Delivery, DeliveryError, deliveries
from retrainer.boundaries.validation import DataValidationError, ValidationReport, validate
from retrainer.domain.config import SourceConfig
from retrainer.domain.deliveries import DeliveryRecord
from retrainer.domain.schema import (
    CHECK,
    REASON,
    ROW_ID,
    Prepared,
    SchemaError,
    apply_schema,
    quarantine_rows,
    split_anomalies,
    split_future,
    split_key_conflicts,
)


@dataclass
class IngestResult:
    """What happened to one delivery."""

    record: DeliveryRecord
    validation: ValidationReport | None
    error: str | None = None


class KeyIndex:
    """The keys a source already has in the validated zone, kept in memory during a run."""

    def __init__(self, lake: Lake, source: SourceConfig) -> None:
        self.key = source.key
        self.index = pd.MultiIndex.from_frame(lake.read_validated(source.name, columns=self.key))

    def seen(self, frame: pd.DataFrame) -> pd.Series:
        """True for rows whose key is already in the lake."""
        if frame.empty or self.index.empty:
            return pd.Series(False, index=frame.index)
        probe = pd.MultiIndex.from_frame(frame[self.key])
        return pd.Series(probe.isin(self.index), index=frame.index)

    def add(self, frame: pd.DataFrame) -> None:
        """Remember the keys of rows just committed."""
        if len(frame):
            self.index = self.index.append(pd.MultiIndex.from_frame(frame[self.key]))


def _reject(
    lake: Lake, record: DeliveryRecord, reason: str, report: ValidationReport | None
) -> IngestResult:
    """Record a rejected delivery (its raw copy is kept; no row is added) and say why."""
    record.status, record.reason = "rejected", reason
    empty = pd.DataFrame()
    return IngestResult(lake.commit(record, empty, empty, None), report, reason)


@dataclass
class Screened:
    """A typed delivery after every row-level check: rows to accept, rows to set aside."""

    accepted: pd.DataFrame
    quarantined: pd.DataFrame
    report: ValidationReport
    validation_seconds: float


def screen(
    prepared: Prepared,
    source: SourceConfig,
    suites: Path,
    asset: str,
    gx_root: Path,
    now: pd.Timestamp,
) -> Screened:
    """Key conflicts, future timestamps, the source's suite and spikes, on a typed delivery.

    Pure of the lake: ingestion commits the result, ``retrainer validate`` only shows it.
    """
    clean, conflicts = split_key_conflicts(prepared.clean, source.key)
    clean, future = split_future(clean, source.time_column, now)
    # The whole delivery is validated, rows already in the lake included: a re-sent file is
    # judged on what it contains, and an all-duplicate delivery is not "empty".
    started = time.perf_counter()
    report = validate(clean, suites / source.suite, asset, gx_root)
    seconds = round(time.perf_counter() - started, 3)
    failing = clean[ROW_ID].isin(list(report.quarantine))
    flagged = clean[failing]
    expectation_rows = quarantine_rows(
        flagged, flagged[ROW_ID].map(report.quarantine).astype("string"), "expectation"
    )
    expectation_rows[CHECK] = expectation_rows[REASON].str.split(":").str[0]
    accepted, anomalies = split_anomalies(clean[~failing], source.anomalies, source.time_column)
    quarantined = pd.concat(
        [q for q in (prepared.quarantine, conflicts, future, expectation_rows, anomalies) if len(q)]
        or [pd.DataFrame()],
        ignore_index=True,
    )
    return Screened(accepted, quarantined, report, seconds)


def ingest_delivery(
    lake: Lake,
    source: SourceConfig,
    delivery: Delivery,
    keys: KeyIndex,
    suites: Path,
    gx_root: Path,
    now: pd.Timestamp,
) -> IngestResult | None:
    """Land one delivery; ``None`` when this exact content was already accepted.

    Accepted rows go to ``validated/``, failing rows to ``quarantine/`` with their reason,
    rows already in the lake are counted as duplicates. A delivery that cannot be parsed or
    fails a blocking expectation is recorded as rejected (its raw copy kept) and adds no row.
    """
    previous = lake.seen(delivery.sha256)
    if previous is not None and previous.status == "accepted":
        return None
    record = DeliveryRecord(
        source=source.name,
        name=delivery.name,
        sha256=delivery.sha256,
        received_at=now.isoformat(),
        status="accepted",
        raw=lake.store_raw(source.name, delivery.sha256, delivery.suffix, delivery.content),
    )
    try:
        prepared = apply_schema(delivery.frame(), source)
    except DeliveryError as exc:
        return _reject(lake, record, str(exc), None)
    except SchemaError as exc:
        return _reject(lake, record, f"{delivery.name}: {exc}", None)

    record.rows_in = len(prepared.clean) + len(prepared.quarantine) + prepared.exact_duplicates
    record.dropped_columns = prepared.dropped_columns
    screened = screen(prepared, source, suites, f"source-{source.name}", gx_root, now)
    record.validation_seconds = screened.validation_seconds
    report = screened.report
    if not report.success:
        error = DataValidationError(f"delivery {delivery.name} of {source.name}", report)
        return _reject(lake, record, str(error), report)
    accepted, quarantined = screened.accepted, screened.quarantined
    seen = keys.seen(accepted)
    record.duplicates = prepared.exact_duplicates + int(seen.sum())
    accepted = accepted[~seen.to_numpy()].drop(columns=[ROW_ID])
    record.accepted, record.quarantined = len(accepted), len(quarantined)
    partition = source.time_column if source.partition_by == "month" else None
    committed = lake.commit(record, accepted, quarantined, partition)
    keys.add(accepted)
    return IngestResult(committed, report)


@dataclass
class SourceIngest:
    """What one source's new deliveries became in this run."""

    results: list[IngestResult]

    @property
    def errors(self) -> list[str]:
        """Why each rejected delivery was rejected."""
        return [r.error for r in self.results if r.error]

    @property
    def reports(self) -> list[ValidationReport]:
        """The validation report of every delivery that got that far."""
        return [r.validation for r in self.results if r.validation]

    def summary(self) -> list[dict]:
        """One line per delivery: what became of it and which checks failed."""
        return [summary_row(result) for result in self.results]


def ingest_source(
    lake: Lake, source: SourceConfig, landing: Path, suites: Path, gx_root: Path
) -> SourceIngest:
    """Land every new delivery of one source: raw copy, schema, dedup, expectations, lake."""
    now = pd.Timestamp.now(tz="UTC")
    keys = KeyIndex(lake, source)
    results = [
        result
        for delivery in deliveries(source, landing)
        if (result := ingest_delivery(lake, source, delivery, keys, suites, gx_root, now))
    ]
    return SourceIngest(results)


def summary_row(result: IngestResult) -> dict:
    """One line of the validation summary: what became of a delivery and which checks failed."""
    r, report = result.record, result.validation
    failed = [o for o in report.outcomes if not o.success] if report else []
    return {
        "delivery": r.name,
        "status": r.status,
        "rows_in": r.rows_in,
        "accepted": r.accepted,
        "quarantined": r.quarantined,
        "duplicates": r.duplicates,
        "failed_expectations": ", ".join(f"{o.expectation}({o.column or ''})" for o in failed),
        "reason": r.reason.splitlines()[0] if r.reason else "",
        "validation_seconds": r.validation_seconds,
    }
