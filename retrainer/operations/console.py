"""What the terminal shows: the CLI's results rendered as text, and nothing else."""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Group
from rich.table import Table
from rich.text import Text

from retrainer.boundaries.preview import Preview
from retrainer.boundaries.tracking import ModelStatus, VersionStatus
from retrainer.domain.audit import ReasonGroup, SourceAudit, partition_notes
from retrainer.domain.checks import ConfigCheck
from retrainer.domain.deliveries import DeliveryRecord
from retrainer.domain.history import AliasMove, version_label
from retrainer.domain.promotion import format_p
from retrainer.operations.servers import StackUrls
from retrainer.operations.trigger import Finished

SUMMARY_METRICS = (
    "roc_auc",
    "average_precision",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "log_loss",
    "balanced_accuracy",
    "f1_macro",
    "roc_auc_ovr",
    "mae",
    "rmse",
    "r2",
)
CONFUSION = (
    ("tn", "true_negatives"),
    ("fp", "false_positives"),
    ("fn", "false_negatives"),
    ("tp", "true_positives"),
)


def format_summary(summary, root: Path, mlflow_uri: str) -> str:
    """The few lines a person reads after a retrain: version, decision, metrics."""
    m = summary.metrics
    metrics = "  ".join(f"{k} {m[k]:.4f}" for k in SUMMARY_METRICS if k in m)
    test = ", ".join(summary.periods["test"])
    lines = [
        "",
        f"retrain {summary.dataset}: MLflow run {summary.run_id}",
        f"  model      {summary.model} version {summary.version} -> alias '{summary.alias}'",
        f"  decision   {summary.decision}: {summary.reason}",
        *_evidence(summary.promotion),
        f"  test       {test}, {int(m['n_rows'])} rows",
        f"  metrics    {metrics}",
    ]
    intervals = [k.removesuffix("_ci_low") for k in m if k.endswith("_ci_low")]
    for name in (k for k in intervals if m[f"{k}_ci_low"] == m[f"{k}_ci_low"]):
        lines.append(
            f"  interval   {name} [{m[f'{name}_ci_low']:.4f}, {m[f'{name}_ci_high']:.4f}] "
            "(bootstrap over the test rows)"
        )
    if "true_positives" in m:
        confusion = "  ".join(f"{short} {int(m[name])}" for short, name in CONFUSION)
        lines.append(f"  confusion  {confusion}  (threshold {m['threshold']:.3f})")
    lines.append(f"  state      {root}  (MLflow: {mlflow_uri})")
    return "\n".join(lines)


def _evidence(promotion: dict | None) -> list[str]:
    """The comparison behind a decision: gain, interval, p-value, the slices that lost."""
    comparison = (promotion or {}).get("comparison")
    if not comparison:
        return []
    s = comparison["significance"]
    lines = [
        f"  evidence   {comparison['metric']} gain {s['gain']:+.4f} "
        f"({s['level']:.0%} CI {s['low']:+.4f} to {s['high']:+.4f}), {s['method']} "
        f"p {format_p(s['p_value'])}, {s['rows']} rows"
    ]
    slices = comparison["slices"]
    if slices:
        losing = [f"{r['column']}={r['value']} {r['change']:+.4f}" for r in slices if r["loses"]]
        checked = sum(r["gated"] for r in slices)
        lines.append(
            f"  slices     {checked} checked, {len(losing)} losing"
            + (f": {', '.join(losing)}" if losing else "")
        )
    return lines


def move_text(model: str, move: AliasMove) -> str:
    """One alias move, as the CLI confirms it."""
    return (
        f"{model}@{move.alias}: {version_label(move.from_version)} -> "
        f"{version_label(move.to_version)} ({move.action} by {move.by}; history #{move.seq})\n"
        f"  why: {move.reason}"
    )


def history_text(model: str, moves: list[AliasMove]) -> str:
    """Every alias move of a model, oldest first: when, which alias, from, to, why, by whom."""
    if not moves:
        return f"{model}: no alias moves recorded yet"
    lines = [f"{model}: {len(moves)} alias move(s), oldest first"]
    for m in moves:
        lines.append(
            f"  #{m.seq:<4} {m.when}  {m.alias:<10} {version_label(m.from_version):>5} -> "
            f"{version_label(m.to_version):<5} {m.action:<8} by {m.by}"
        )
        lines.append(f"        why: {m.reason}")
        if m.run:
            lines.append(f"        run: {m.run}")
    return "\n".join(lines)


def local_time(when: datetime, timezone: str) -> str:
    """``Mon 2026-11-30 06:00 EST``: a time as a person in ``timezone`` reads it."""
    return when.astimezone(ZoneInfo(timezone)).strftime("%a %Y-%m-%d %H:%M %Z")


def stack_table(
    urls: StackUrls, next_runs: dict[str, str], logs: Path, work_pool: str | None = None
) -> str:
    """Where the running stack answers, when each deployment runs next, how to go on."""
    pool = [("work pool", f"{work_pool}: runs wait for `retrainer worker`")] if work_pool else []
    rows = [
        ("Prefect UI", urls.prefect_ui),
        ("Prefect API", urls.prefect_api),
        ("MLflow UI", urls.mlflow_ui),
        ("Data Docs", urls.data_docs),
        *pool,
        *((deployment, f"next run {when}") for deployment, when in next_runs.items()),
        ("logs", str(logs)),
        ("trigger a retrain", "retrainer trigger --wait  (curl: docs/operations.md)"),
        ("stop", "make down"),
    ]
    return "\n".join(["", *(f"{label:<20} {value}" for label, value in rows)])


def finished_text(end: Finished) -> str:
    """How a followed run ended, what it decided, and where to look."""
    timing = (
        f"started {end.started_after:.1f} s and finished {end.finished_after:.1f} s "
        "after the request"
        if end.started_after is not None and end.finished_after is not None
        else "never started"
    )
    lines = [f"{end.name}: {end.state}{f' ({end.message})' if end.message else ''}; {timing}"]
    if end.decision:
        lines.append(f"  {'decision':<14} {end.decision}")
    if end.links:
        lines.append(f"  {'MLflow run':<14} {end.links.run}")
        lines.append(f"  {'model version':<14} {end.links.model_version}")
    return "\n".join(lines)


def _table(title: str, *columns: str, **options: Any) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", **options)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def audit_view(audits: list[SourceAudit]) -> Group:
    """The data audit as terminal tables: totals, partitions per source, quarantine reasons."""
    totals = _table(
        "Data audit (since the lake began)",
        "source",
        "deliveries",
        "rejected",
        "rows in",
        "accepted",
        "quarantined",
        "duplicates",
    )
    for a in audits:
        totals.add_row(
            a.source,
            f"{a.deliveries_accepted:,}",
            f"[red]{a.deliveries_rejected}[/red]" if a.deliveries_rejected else "0",
            f"{a.rows_in:,}",
            f"{a.accepted:,}",
            f"{a.quarantined:,}",
            f"{a.duplicates:,}",
        )
    parts: list[Any] = [totals]
    for a in audits:
        if a.partitions:
            local = [f"months in {a.timezone}"] if a.local_months else []
            partitions = _table(f"{a.source}: partitions", "partition (UTC month)", "rows", *local)
            for partition, rows in sorted(a.partitions.items()):
                months = [", ".join(a.local_months.get(partition, []))] if local else []
                partitions.add_row(partition, f"{rows:,}", *months)
            parts += ["", partitions, *(Text(note, style="dim") for note in partition_notes(a))]
        if a.top_reasons:
            parts += ["", reasons_table(f"{a.source}: why rows were quarantined", a.top_reasons)]
        parts += [Text(f"rejected delivery {r}", style="red") for r in a.rejected]
    return Group(*parts)


def reasons_table(title: str, reasons: list[ReasonGroup]) -> Table:
    """Quarantine reasons by kind: the check, an example reason, how many rows, their values."""
    table = _table(title, "check", "reason (an example)", "rows", "values")
    for group in reasons:
        table.add_row(group.check, group.reason, f"{group.rows:,}", group.values)
    return table


def preview_view(preview: Preview) -> Group:
    """``retrainer validate``: the verdict, the counts and every expectation's outcome."""
    colour = "green" if preview.verdict == "accepted" else "red"
    parts: list[Any] = [
        Text.from_markup(
            f"[bold]{preview.file}[/bold] as a delivery of [bold]{preview.source}[/bold]: "
            f"[{colour}]would be {preview.verdict}[/{colour}]"
        )
    ]
    if preview.reason:
        parts.append(Text(preview.reason, style=colour))
    if preview.report is None:
        return Group(*parts)
    parts.append(
        Text(
            f"{preview.rows_in:,} rows: {preview.accepted:,} to accept, "
            f"{preview.quarantined:,} to quarantine, {preview.duplicates:,} exact duplicates"
            + (
                f"; columns dropped (not in the schema): {preview.dropped_columns}"
                if preview.dropped_columns
                else ""
            )
        )
    )
    outcomes = _table(
        f"expectation suite {preview.report.suite}",
        "expectation",
        "column",
        "gate",
        "result",
        "unexpected",
        "failing rows e.g.",
        "why it exists",
        show_lines=True,
    )
    for o in preview.report.outcomes:
        result = "[green]passed[/green]" if o.success else "[red]failed[/red]"
        unexpected = (
            f"{o.unexpected_count:,} ({o.unexpected_percent:.2f} %)" if o.unexpected_count else ""
        )
        sample = ", ".join(map(str, o.failing_rows[:5]))
        outcomes.add_row(o.expectation, o.column or "", o.gate, result, unexpected, sample, o.notes)
    parts += ["", outcomes]
    if preview.reasons:
        parts += ["", reasons_table("rows that would be quarantined", preview.reasons)]
    return Group(*parts)


def check_view(path: Path, check: ConfigCheck, landed: dict[str, list[str]]) -> Group:
    """``retrainer check``: every problem with the config's column names, one line each."""
    sources = ", ".join(landed) or "none yet"
    parts: list[Any] = [
        Text(f"checked against the declared schemas and the deliveries of: {sources}", style="dim")
    ]
    parts += [Text(f"  warning: {line}", style="yellow") for line in check.warnings]
    if check.ok:
        parts.append(Text.from_markup(f"[green]{path}: the config is valid[/green]"))
    else:
        parts.append(Text(f"{path}: {len(check.errors)} problem(s):", style="red"))
        parts += [Text(f"  - {line}") for line in check.errors]
    return Group(*parts)


@dataclass
class StackState:
    """What ``retrainer status`` knows about the servers: each one's URL and whether it runs."""

    servers: dict[str, tuple[str, bool]]
    next_runs: dict[str, str]


def _version_line(label: str, version: VersionStatus | None, metric: str) -> str:
    if version is None:
        return f"{label:<11} none yet"
    score = version.metrics.get(metric)
    shown = f"{metric} {score:.4f}" if score is not None else f"{metric} ?"
    when = version.created.astimezone().strftime("%Y-%m-%d %H:%M")
    return f"{label:<11} v{version.version}  {shown}  registered {when}"


def status_view(
    model: str,
    metric: str,
    status: ModelStatus,
    stack_state: StackState,
    rejected: list[DeliveryRecord],
    runs_link: str | None,
) -> Group:
    """``retrainer status``: the model in service, the latest runs, the servers, what waits."""
    lines: list[Any] = [Text(f"model {model}", style="bold")]
    lines.append(Text(_version_line("champion", status.champion, metric)))
    if status.champion and status.champion.reason:
        lines.append(Text(f"{'':<11} why: {status.champion.reason}", style="dim"))
    lines.append(Text(_version_line("challenger", status.challenger, metric)))
    runs = _table("last runs", "run", "started", "version", "decision", metric, box=None)
    for run in status.runs:
        score = run.metrics.get(metric)
        runs.add_row(
            run.name,
            run.started.astimezone().strftime("%Y-%m-%d %H:%M"),
            f"v{run.version}" if run.version else "-",
            run.decision,
            f"{score:.4f}" if score is not None else "-",
        )
    parts: list[Any] = [*lines, "", runs if status.runs else Text("no runs yet: `make run`")]
    if runs_link:
        parts.append(Text(f"all runs: {runs_link}", style="dim"))
    servers = _table("servers (make up / make down)", "server", "state", "where", box=None)
    for name, (where, up) in stack_state.servers.items():
        servers.add_row(name, "[green]up[/green]" if up else "[dim]down[/dim]", where)
    parts += ["", servers]
    if stack_state.next_runs:
        schedule = _table("next scheduled runs", "deployment", "when", box=None)
        for deployment, when in stack_state.next_runs.items():
            schedule.add_row(deployment, when)
        parts += ["", schedule]
    if rejected:
        pending = _table(
            "rejected deliveries (fix them at the source and deliver again)",
            "source",
            "delivery",
            "received",
            "why",
            box=None,
        )
        for record in rejected:
            why = (record.reason or "").splitlines()[0]
            pending.add_row(record.source, record.name, record.received_at[:16], why)
        parts += ["", pending]
    else:
        parts += ["", Text("no rejected deliveries waiting", style="dim")]
    return Group(*parts)


def format_predictions(summary, zone: Path) -> str:
    """What a predict run wrote into the predictions zone ``zone``."""
    if summary.version is None:
        return (
            f"predict {summary.dataset}: nothing scored, {summary.model} has no champion yet "
            "(`retrainer run` trains one)"
        )
    if not summary.rows:
        return (
            f"predict {summary.dataset}: nothing new to score with {summary.model} "
            f"v{summary.version}; the predictions zone is unchanged"
        )
    return (
        f"predict {summary.dataset}: {summary.model} v{summary.version} scored {summary.rows} "
        f"records of {', '.join(summary.periods)}\n  written    {zone / summary.file}"
    )


def format_monitoring(summary) -> str:
    """What a monitoring run found: performance, drift, alarms and where the report is."""
    if summary is None:
        return "monitor: nothing to monitor, no predictions yet (`retrainer predict` first)"
    realised = "-" if summary.realised is None else f"{summary.realised:.4f}"
    lines = [
        "",
        f"monitor {summary.dataset} {summary.period}: v{summary.version}, {summary.rows} "
        f"predictions, labels arrived for {summary.labelled}",
        f"  {summary.metric:<10} test {summary.baseline:.4f}  estimated {summary.estimated:.4f}  "
        f"realised {realised}",
        f"  drifted    {', '.join(summary.drifted) or 'none'}",
        f"  diagnosis  {summary.diagnosis}",
        *(f"  ALARM      {alarm}" for alarm in summary.alarms),
        f"  MLflow run {summary.mlflow_run_id}"
        + (f"; alarm event {summary.alarm_event_id}" if summary.alarm_event_id else ""),
    ]
    return "\n".join(lines)
