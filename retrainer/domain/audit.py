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
    top_reasons: list["ReasonGroup"] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    timezone: str | None = None
    local_months: dict[str, list[str]] = field(default_factory=dict)

    @property
    def shifted_partitions(self) -> dict[str, list[str]]:
        """Partitions (UTC months) whose rows fall in another month in ``timezone``."""
        return {
            partition: months
            for partition, months in self.local_months.items()
            if months != [_partition_month(partition)]
        }


@dataclass
class ReasonGroup:
    """Quarantined rows refused for one kind of reason, with an example and their values."""

    check: str
    reason: str
    rows: int
    values: str = ""


def _reason_kind(reason: str) -> str:
    """A reason with its numbers blanked, so one kind of problem counts as one line."""
    return re.sub(r"[-+]?\d[\d.e+-]*", "#", reason)


def _partition_month(partition: str) -> str:
    """``year=2014/month=01`` -> ``2014-01``."""
    found = re.fullmatch(r"year=(\d+)/month=(\d+)", partition)
    return f"{found[1]}-{found[2]}" if found else partition


def _checked_column(check: str) -> str | None:
    """The column an expectation check names: ``expect_..._between(wind_speed)``."""
    found = re.search(r"\(([^()]+)\)$", check)
    return found[1] if found else None


def _value_range(values: pd.Series) -> str:
    """The quarantined values of one column: a numeric range, or a few distinct values."""
    present = values.dropna()
    numbers = pd.to_numeric(present, errors="coerce")
    if len(present) and numbers.notna().all():
        low, high = numbers.min(), numbers.max()
        return f"{low:.6g}" if low == high else f"{low:.6g} to {high:.6g}"
    distinct = list(dict.fromkeys(present.astype(str)))
    return ", ".join(distinct[:3]) + (f" (+{len(distinct) - 3} more)" if len(distinct) > 3 else "")


def group_reasons(quarantine: pd.DataFrame, top: int = TOP_REASONS) -> list[ReasonGroup]:
    """The most frequent kinds of quarantine reason, largest first.

    Reasons that differ only in their numbers are one kind; each group keeps a real example
    (numbers included) and, for an expectation on a column, the range of refused values.
    """
    if quarantine.empty:
        return []
    checks = quarantine[CHECK].astype(str)
    texts = quarantine[REASON].astype(str)
    reasons = [r.removeprefix(f"{c}: ") for c, r in zip(checks, texts, strict=True)]
    frame = quarantine.assign(_c=checks.to_numpy(), _r=reasons)
    frame["_kind"] = frame["_r"].map(_reason_kind)
    groups = []
    for (check, _), rows in frame.groupby(["_c", "_kind"], sort=False):
        column = _checked_column(check)
        values = _value_range(rows[column]) if column in rows else ""
        groups.append(ReasonGroup(check, rows["_r"].iloc[0], len(rows), values))
    return sorted(groups, key=lambda g: -g.rows)[:top]


def local_months(times: pd.Series, timezone: str) -> dict[str, list[str]]:
    """For each UTC month partition of ``times``, the calendar months its rows are in locally."""
    stamps = pd.to_datetime(times, utc=True).dropna()
    partition = stamps.dt.strftime("year=%Y/month=%m")
    local = stamps.dt.tz_convert(timezone).dt.strftime("%Y-%m")
    return {p: sorted(set(months)) for p, months in local.groupby(partition, sort=True)}


def audit_source(
    source: str,
    records: list[DeliveryRecord],
    validated: pd.DataFrame,
    quarantine: pd.DataFrame,
    time_column: str | None = None,
    timezone: str | None = None,
) -> SourceAudit:
    """Audit one source from its manifest records, accepted rows and quarantined rows.

    With ``time_column`` and ``timezone``: which local calendar months each partition (a UTC
    month) holds, since training counts months in the data set's time zone.
    """
    result = SourceAudit(source=source, timezone=timezone)
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
    if time_column and timezone and time_column in validated:
        result.local_months = local_months(validated[time_column], timezone)
    result.top_reasons = group_reasons(quarantine)
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
        local = f" | months in {a.timezone}" if a.local_months else ""
        lines += ["", f"#### {a.source}", "", f"| partition (UTC month) | rows{local} |"]
        lines.append("|---|---|---|" if local else "|---|---|")
        for partition, rows in sorted(a.partitions.items()):
            months = f" | {', '.join(a.local_months.get(partition, []))}" if local else ""
            lines.append(f"| {partition} | {rows}{months} |")
        lines += [f"\n{note}" for note in partition_notes(a)]
        nulls = ", ".join(f"{c} {r:.1%}" for c, r in a.null_rates.items() if r > 0) or "none"
        lines += ["", f"Null rates: {nulls}", ""]
        if a.top_reasons:
            lines += [
                "| check | quarantine reason (an example) | rows | values |",
                "|---|---|---|---|",
            ]
            lines += [f"| {g.check} | {g.reason} | {g.rows} | {g.values} |" for g in a.top_reasons]
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


def partition_notes(audit: SourceAudit) -> list[str]:
    """Why a partition holds rows of another month: UTC partitions, a local calendar."""
    return [
        f"{partition} holds rows that are {', '.join(months)} in {audit.timezone}: the lake "
        "partitions by UTC month, and late evening on a month's last day there is already "
        "the next month in UTC. Training counts months in the data set's time zone "
        "(split.timezone), so they count as " + ", ".join(months) + "."
        for partition, months in audit.shifted_partitions.items()
    ]


def as_dict(audits: list[SourceAudit]) -> list[dict]:
    """The audit as plain data (for MLflow and JSON output)."""
    return [asdict(a) for a in audits]
