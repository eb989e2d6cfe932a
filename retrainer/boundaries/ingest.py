"""Ingestion of one source: fetch -> raw zone -> schema -> pseudonyms -> checks -> lake.

One writer: a source is ingested while holding the lake's writer lock. A delivery that was
rejected is recorded once and judged again only when its rules (suite, source config)
change; until a good delivery replaces it, it is reported, never silently forgotten.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from retrainer.boundaries.lake import FILE_COLUMN, Lake
from retrainer.boundaries.privacy import check_key
from retrainer.boundaries.sources import Delivery, DeliveryError, deliveries
from retrainer.boundaries.validation import DataValidationError, ValidationReport, validate
from retrainer.domain.config import SourceConfig
from retrainer.domain.corrections import match_existing, without_keys
from retrainer.domain.deliveries import (
    DeliveryRecord,
    first_line,
    outstanding_rejections,
    rules_fingerprint,
)
from retrainer.domain.privacy import pseudonymise
from retrainer.domain.row_checks import empty_columns
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

# Failures of reading a source that may pass by themselves: worth a retry with backoff.
TRANSIENT = (OSError, OperationalError, PoolTimeoutError)


class SourceUnavailableError(RuntimeError):
    """A source could not be read, retries included."""


@dataclass(frozen=True)
class Rules:
    """What a source's deliveries are judged by."""

    source: SourceConfig
    suite: Path
    gx_root: Path
    model_columns: tuple[str, ...] = ()
    pseudonym_key: bytes | None = None

    @cached_property
    def fingerprint(self) -> str:
        """Changes when the suite file or the source's config does: rejections are re-judged."""
        return rules_fingerprint(self.suite.read_bytes(), self.source.model_dump_json().encode())

    def protect(self, prepared: Prepared) -> Prepared:
        """Personal columns replaced by pseudonyms, in accepted and set-aside rows alike."""
        columns = self.source.personal_columns
        if not columns:
            return prepared
        if self.pseudonym_key is None:
            raise ValueError(f"source {self.source.name!r} has personal columns but no key")
        prepared.clean = pseudonymise(prepared.clean, columns, self.pseudonym_key)
        prepared.quarantine = pseudonymise(prepared.quarantine, columns, self.pseudonym_key)
        return prepared


@dataclass
class IngestResult:
    """What happened to one delivery."""

    record: DeliveryRecord
    validation: ValidationReport | None
    error: str | None = None


class KeyIndex:
    """The rows a source already has in the validated zone, read once a delivery needs them."""

    def __init__(self, lake: Lake, source: SourceConfig) -> None:
        self.lake = lake
        self.source = source
        self._rows: pd.DataFrame | None = None

    def rows(self) -> pd.DataFrame:
        """The source's validated rows, with the file each lives in."""
        if self._rows is None:
            self._rows = self.lake.read_validated(self.source.name, with_file=True)
        return self._rows

    def resolve(
        self, rows: pd.DataFrame, record: DeliveryRecord
    ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame]]:
        """Split ``rows`` by what the lake holds; apply the source's correction policy.

        Returns the rows to accept, the rows to quarantine and the rewritten lake files
        (``take_newest``: the files holding rows the new ones replace, without those rows).
        Counts exact duplicates and corrections on ``record``.
        """
        key = self.source.key
        columns = [c for c in rows.columns if c not in key and c != ROW_ID]
        matches = match_existing(rows, self.rows(), key, columns)
        record.duplicates += int(matches.duplicate.sum())
        record.corrections = int(matches.correction.sum())
        fresh, corrected = rows[matches.fresh], rows[matches.correction]
        nothing = quarantine_rows(rows.iloc[0:0], "", "")
        policy = self.source.corrections
        if corrected.empty or policy == "keep_first":
            return fresh, nothing, {}
        if policy == "quarantine":
            reason = (
                "correction: key already in the lake with other values in ["
                + matches.changed[matches.correction]
                + "]; policy `quarantine` keeps the lake's row (set the source's "
                "`corrections: take_newest` to accept corrected re-deliveries)"
            )
            return fresh, quarantine_rows(corrected, reason, "correction"), {}
        files = matches.files[matches.correction]
        rewrites = {
            path: without_keys(self.lake.read_file(path), group, key)
            for path, group in corrected.groupby(files.to_numpy())
        }
        return pd.concat([fresh, corrected]), nothing, rewrites

    def committed(self, record: DeliveryRecord, rewrites: dict[str, pd.DataFrame]) -> None:
        """Remember what a commit added (a rewrite renamed files: read the lake again)."""
        if self._rows is None:
            return
        if rewrites:
            self._rows = None
            return
        added = [self.lake.read_file(p).assign(**{FILE_COLUMN: p}) for p in record.validated]
        if added:
            self._rows = pd.concat([self._rows, *added], ignore_index=True)


def _reject(
    lake: Lake, record: DeliveryRecord, reason: str, report: ValidationReport | None
) -> IngestResult:
    """Record a rejected delivery (its raw copy is kept; no row is added) and say why."""
    record.status, record.reason = "rejected", reason
    empty = pd.DataFrame()
    return IngestResult(lake.commit(record, empty, empty, None), report, reason)


def _already_judged(lake: Lake, rules: Rules, delivery: Delivery) -> bool:
    previous = lake.seen(rules.source.name, delivery.sha256)
    if any(r.status == "accepted" for r in previous):
        return True
    fingerprint = rules.fingerprint
    return any(r.name == delivery.name and r.rules == fingerprint for r in previous)


@dataclass
class Screened:
    """A typed delivery after every row-level check: rows to accept, rows to set aside."""

    checked: pd.DataFrame  # the typed rows the suite saw (before row-level quarantine)
    accepted: pd.DataFrame
    quarantined: pd.DataFrame
    report: ValidationReport
    validation_seconds: float


def screen(
    prepared: Prepared,
    source: SourceConfig,
    suite: Path,
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
    report = validate(clean, suite, asset, gx_root)
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
    return Screened(clean, accepted, quarantined, report, seconds)


def delivery_warnings(
    report: ValidationReport, clean: pd.DataFrame, model_columns: tuple[str, ...]
) -> list[str]:
    """What did not block but must show on the run: warned checks, quarantined rows, empty
    model columns."""
    lines = [o.describe() for o in report.warnings]
    lines += [
        f"{o.unexpected_count} row(s) quarantined by {o.expectation} ({o.column}): {o.notes}"
        for o in report.outcomes
        if o.gate == "quarantine" and not o.success
    ]
    covered = {o.column for o in report.warnings}
    lines += [
        f"column {column!r} has no value in any row of this delivery: the model reads it "
        "(a feature or the label) and gets nothing from these rows"
        for column in empty_columns(clean, list(model_columns))
        if column not in covered
    ]
    return lines


def ingest_delivery(
    lake: Lake, rules: Rules, delivery: Delivery, keys: KeyIndex, now: pd.Timestamp
) -> IngestResult | None:
    """Land one delivery; ``None`` when it was judged before under the same rules.

    Accepted rows go to ``validated/``, failing rows to ``quarantine/`` with their reason;
    rows already in the lake are exact duplicates (counted) or corrections (the source's
    policy). A delivery that cannot be parsed or fails a blocking check is recorded as
    rejected (its raw copy kept) and adds no row.
    """
    source = rules.source
    if _already_judged(lake, rules, delivery):
        return None
    record = DeliveryRecord(
        source=source.name,
        name=delivery.name,
        sha256=delivery.sha256,
        received_at=now.isoformat(),
        status="accepted",
        raw=lake.store_raw(source.name, delivery.sha256, delivery.suffix, delivery.content),
        rules=rules.fingerprint,
    )
    try:
        prepared = rules.protect(apply_schema(delivery.frame(), source))
    except DeliveryError as exc:
        return _reject(lake, record, str(exc), None)
    except SchemaError as exc:
        return _reject(lake, record, f"{delivery.name}: {exc}", None)

    record.rows_in = len(prepared.clean) + len(prepared.quarantine) + prepared.exact_duplicates
    record.dropped_columns = prepared.dropped_columns
    record.duplicates = prepared.exact_duplicates
    screened = screen(prepared, source, rules.suite, f"source-{source.name}", rules.gx_root, now)
    record.validation_seconds = screened.validation_seconds
    report = screened.report
    if not report.success:
        error = DataValidationError(f"delivery {delivery.name} of {source.name}", report)
        return _reject(lake, record, str(error), report)
    record.warnings = delivery_warnings(report, screened.checked, rules.model_columns)
    accepted, corrections, rewrites = keys.resolve(screened.accepted, record)
    quarantined = pd.concat(
        [q for q in (screened.quarantined, corrections) if len(q)] or [pd.DataFrame()],
        ignore_index=True,
    )
    accepted = accepted.drop(columns=[ROW_ID])
    record.accepted, record.quarantined = len(accepted), len(quarantined)
    partition = source.time_column if source.partition_by == "month" else None
    committed = lake.commit(record, accepted, quarantined, partition, rewrites)
    keys.committed(committed, rewrites)
    return IngestResult(committed, report)


@dataclass
class SourceIngest:
    """What one source's new deliveries became in this run, and what is still outstanding."""

    source: str
    results: list[IngestResult]
    outstanding: list[DeliveryRecord] = field(default_factory=list)
    unreachable: str | None = None

    @property
    def errors(self) -> list[str]:
        """Why each delivery rejected in this run was rejected."""
        return [r.error for r in self.results if r.error]

    @property
    def reports(self) -> list[ValidationReport]:
        """The validation report of every delivery that got that far."""
        return [r.validation for r in self.results if r.validation]

    @property
    def warnings(self) -> list[str]:
        """Every warning of this run's deliveries, each naming its delivery."""
        return [f"{r.record.name}: {w}" for r in self.results for w in r.record.warnings]

    def problems(self) -> list[str]:
        """One line per thing that holds data back: an unreachable source, each open rejection."""
        lines = [self.unreachable] if self.unreachable else []
        lines += [
            f"delivery {r.name} of {r.source} rejected since {r.received_at[:19]} (raw copy "
            f"{r.raw}): {first_line(r.reason)}"
            for r in self.outstanding
        ]
        return lines

    def summary(self) -> list[dict]:
        """One line per delivery: what became of it and which checks failed."""
        rows = [summary_row(result) for result in self.results]
        if self.unreachable:
            rows.append(
                {
                    "delivery": f"({self.source})",
                    "status": "unreachable",
                    "reason": self.unreachable,
                }
            )
        return rows


def fetch(
    source: SourceConfig, landing: Path, sleep: Callable[[float], None] = time.sleep
) -> list[Delivery]:
    """Everything the source delivered, read again with backoff when reading fails."""
    delay, started, attempt = source.retry_delay_seconds, time.monotonic(), 1
    while True:
        try:
            return deliveries(source, landing)
        except TRANSIENT as exc:
            if attempt > source.retries:
                cause = first_line(str(getattr(exc, "orig", None) or exc)) or type(exc).__name__
                raise SourceUnavailableError(
                    f"source {source.name} could not be read after {attempt} attempts over "
                    f"{time.monotonic() - started:.0f} s: {type(exc).__name__}: {cause}"
                ) from exc
        sleep(delay)
        delay *= 4
        attempt += 1


def ingest_source(
    lake: Lake,
    rules: Rules,
    landing: Path,
    waiting: Callable[[], None] | None = None,
    lock_timeout: float | None = None,
) -> SourceIngest:
    """Land every new delivery of one source, holding the lake's writer lock."""
    source = rules.source
    with lake.writer(lock_timeout, waiting):
        if source.personal_columns and rules.pseudonym_key is not None:
            check_key(lake.root, rules.pseudonym_key)
        try:
            found = fetch(source, landing)
        except SourceUnavailableError as exc:
            unreachable: str | None = str(exc)
            found = []
        else:
            unreachable = None
        now = pd.Timestamp.now(tz="UTC")
        keys = KeyIndex(lake, source)
        results = [
            result
            for delivery in found
            if (result := ingest_delivery(lake, rules, delivery, keys, now))
        ]
        outstanding = outstanding_rejections(lake.records(source.name))
    return SourceIngest(source.name, results, outstanding, unreachable)


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
        "corrections": r.corrections,
        "failed_expectations": ", ".join(f"{o.expectation}({o.column or ''})" for o in failed),
        "warnings": len(r.warnings),
        "reason": first_line(r.reason),
        "validation_seconds": r.validation_seconds,
    }


def open_problems(
    lake: Lake, sources: list[SourceConfig], ingested: dict[str, list[dict]]
) -> tuple[list[str], list[str]]:
    """Rejections not replaced yet and sources that did not answer: all, and the blocking ones.

    A problem blocks when its source says ``on_reject: block``.
    """
    lines, blocking = [], []
    for source in sources:
        problems = [
            f"{source.name}: delivery {r.name} rejected (raw copy {r.raw}): {first_line(r.reason)}"
            for r in outstanding_rejections(lake.records(source.name))
        ] + [
            f"{source.name}: {row['reason']}"
            for row in ingested.get(source.name, [])
            if row["status"] == "unreachable"
        ]
        lines += problems
        if problems and source.on_reject == "block":
            blocking += problems
    return lines, blocking
