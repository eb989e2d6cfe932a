"""The data audit: what the lake holds, per source and partition, and why rows were refused."""

import re
from dataclasses import asdict, dataclass, field

import pandas as pd

from retrainer.domain.deliveries import DeliveryRecord, first_line, outstanding_rejections
from retrainer.domain.schema import CHECK, REASON

TOP_REASONS = 10


@dataclass
class SourceAudit:
    """Counts for one source since the lake began."""

    source: str
    deliveries_accepted: int = 0
    deliveries_rejected: int = 0
    rows_in: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0
    corrections: int = 0
    warnings: int = 0
    validation_seconds: float = 0.0
    partitions: dict[str, int] = field(default_factory=dict)
    null_rates: dict[str, float] = field(default_factory=dict)
    top_reasons: list[tuple[str, int]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


def _reason_kind(reason: str) -> str:
    """A reason with its numbers blanked, so one kind of problem counts as one line."""
    return re.sub(r"[-+]?\d[\d.e+-]*", "#", reason)


def audit_source(
    source: str,
    records: list[DeliveryRecord],
    validated: pd.DataFrame,
    quarantine: pd.DataFrame,
) -> SourceAudit:
    """Audit one source from its manifest records, accepted rows and quarantined rows."""
    result = SourceAudit(source=source)
    # Only rejections not replaced since: a bad file stays listed until a good one comes.
    result.rejected = [
        f"{r.name} (raw copy {r.raw}): {first_line(r.reason)}"
        for r in outstanding_rejections(records)
    ]
    for record in records:
        if record.status == "rejected":
            result.deliveries_rejected += 1
            continue
        result.deliveries_accepted += 1
        result.rows_in += record.rows_in
        result.accepted += record.accepted
        result.quarantined += record.quarantined
        result.duplicates += record.duplicates
        result.corrections += record.corrections
        result.warnings += len(record.warnings)
        result.validation_seconds += record.validation_seconds
        for path, rows in record.validated.items():
            partition = path.split("/", 2)[2].rsplit("/", 1)[0] if path.count("/") > 2 else "-"
            result.partitions[partition] = result.partitions.get(partition, 0) + rows
    if len(validated):
        result.null_rates = {c: round(float(v), 4) for c, v in validated.isna().mean().items()}
    if len(quarantine):
        kinds = quarantine[CHECK].astype(str) + ": " + quarantine[REASON].map(_reason_kind)
        result.top_reasons = list(kinds.value_counts().head(TOP_REASONS).items())
    result.validation_seconds = round(result.validation_seconds, 3)
    return result


def as_markdown(audits: list[SourceAudit]) -> str:
    """The audit as a Markdown report (a Prefect artifact, `retrainer audit`)."""
    lines = [
        "| source | deliveries | rejected | rows in | accepted | quarantined | duplicates "
        "| corrections | warnings | validation s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {a.source} | {a.deliveries_accepted} | {a.deliveries_rejected} | {a.rows_in} "
        f"| {a.accepted} | {a.quarantined} | {a.duplicates} | {a.corrections} | {a.warnings} "
        f"| {a.validation_seconds} |"
        for a in audits
    ]
    for a in audits:
        lines += ["", f"#### {a.source}", "", "| partition | rows |", "|---|---|"]
        lines += [f"| {p} | {n} |" for p, n in sorted(a.partitions.items())]
        nulls = ", ".join(f"{c} {r:.1%}" for c, r in a.null_rates.items() if r > 0) or "none"
        lines += ["", f"Null rates: {nulls}", ""]
        if a.top_reasons:
            lines += ["| quarantine reason | rows |", "|---|---|"]
            lines += [f"| {reason} | {n} |" for reason, n in a.top_reasons]
        lines += [f"- open rejection: {r}" for r in a.rejected]
    return "\n".join(lines)


def erasures_markdown(erasures: list[dict]) -> str:
    """The erasure log as Markdown: when, which column, rows per source and zone."""
    if not erasures:
        return ""
    lines = ["", "#### erasures", "", "| when | column | rows erased | files rewritten |"]
    lines.append("|---|---|---|---|")
    for e in erasures:
        counts = "; ".join(
            f"{source}: " + ", ".join(f"{zone} {n}" for zone, n in zones.items() if n)
            for source, zones in e["rows"].items()
            if any(zones.values())
        )
        lines.append(
            f"| {e['at']} | {e['column']} | {counts or 'none found'} | {e['files_rewritten']} |"
        )
    return "\n".join(lines)


def as_dict(audits: list[SourceAudit]) -> list[dict]:
    """The audit as plain data (for MLflow and JSON output)."""
    return [asdict(a) for a in audits]
