"""``retrainer validate FILE --source S``: what ingestion would do with one file, lake untouched.

The same steps as ingestion (parse, schema mapping, key conflicts, future timestamps, the
source's expectation suite, spike detection), reported instead of committed.
"""

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from retrainer.boundaries.ingest import screen
from retrainer.boundaries.sources.base import Delivery, DeliveryError
from retrainer.boundaries.sources.feed import read_jsonl
from retrainer.boundaries.sources.files import PARSERS
from retrainer.boundaries.validation import ValidationReport
from retrainer.domain.audit import ReasonGroup, group_reasons
from retrainer.domain.config import SourceConfig
from retrainer.domain.schema import SchemaError, apply_schema

READERS = {**PARSERS, ".jsonl": read_jsonl, ".json": read_jsonl}


@dataclass
class Preview:
    """What ingestion would make of one file: its verdict, counts and every check's outcome."""

    file: str
    source: str
    verdict: str  # accepted | rejected
    reason: str = ""
    rows_in: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0
    dropped_columns: list[str] = field(default_factory=list)
    reasons: list[ReasonGroup] = field(default_factory=list)
    report: ValidationReport | None = None


def preview_file(path: Path, source: SourceConfig, suites: Path, gx_root: Path) -> Preview:
    """Run ``source``'s checks on the file at ``path``; nothing is written to the lake."""
    read = READERS.get(path.suffix.lower())
    if read is None:
        known = ", ".join(sorted(READERS))
        return Preview(str(path), source.name, "rejected", f"unknown file type; known: {known}")
    delivery = Delivery(source.name, path.name, path.read_bytes(), path.suffix.lower(), read)
    try:
        prepared = apply_schema(delivery.frame(), source)
    except (DeliveryError, SchemaError) as exc:
        return Preview(str(path), source.name, "rejected", str(exc))
    screened = screen(
        prepared,
        source,
        suites / source.suite,
        f"preview-{source.name}",
        gx_root,
        pd.Timestamp.now(tz="UTC"),
    )
    report = screened.report
    blocking = "; ".join(o.describe() for o in report.blocking)
    return Preview(
        file=str(path),
        source=source.name,
        verdict="accepted" if report.success else "rejected",
        reason=f"blocking expectations failed: {blocking}" if blocking else "",
        rows_in=len(prepared.clean) + len(prepared.quarantine) + prepared.exact_duplicates,
        accepted=len(screened.accepted),
        quarantined=len(screened.quarantined),
        duplicates=prepared.exact_duplicates,
        dropped_columns=prepared.dropped_columns,
        reasons=group_reasons(screened.quarantined),
        report=report,
    )
