"""Markdown a person reads in the Prefect UI, rendered from the run's results (never parsed)."""

from dataclasses import dataclass, field
from typing import Any

from retrainer.domain.promotion import Decision
from retrainer.domain.records import LoggedModel


def decision_markdown(logged: LoggedModel, decision: Decision) -> str:
    """The promotion decision: verdict, reason, the two scores side by side."""
    before = "-" if decision.champion_metric is None else f"{decision.champion_metric:.4f}"
    champion = f"v{decision.champion_before}" if decision.champion_before else "-"
    return (
        f"### {logged.model} v{logged.version}: **{decision.decision}**\n\n"
        f"{decision.reason}\n\n"
        f"| | {decision.metric} |\n|---|---|\n"
        f"| challenger v{logged.version} | {decision.challenger_metric:.4f} |\n"
        f"| champion {champion} | {before} |\n\n"
        f"MLflow run `{logged.run_id}`, model `{logged.model_uri}`"
    )


def mlflow_location_markdown(logged: LoggedModel, tracking_uri: str) -> str:
    """Where the run and model are when no MLflow UI runs to link to."""
    return (
        f"MLflow run `{logged.run_id}`, model `{logged.model}` version {logged.version} in "
        f"`{tracking_uri}`. No MLflow UI was running: `make up` starts one."
    )


SUMMARY_METRICS = ("roc_auc", "average_precision", "f1", "precision", "recall", "log_loss")


@dataclass
class RunFacts:
    """What one retrain did, gathered for its summary: the decision, the numbers, the data."""

    logged: LoggedModel
    decision: Decision
    alias: str
    metrics: dict[str, float]
    champion_metrics: dict[str, float] | None
    periods: dict[str, list[str]]
    rows: dict[str, int]
    rows_without_label: int
    deliveries: dict[str, list[dict]]
    overrides: dict[str, Any] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)


def _months(periods: list[str]) -> str:
    return periods[0] if len(periods) == 1 else f"{periods[0]} to {periods[-1]}"


def _metrics_table(facts: RunFacts) -> list[str]:
    champion = facts.decision.champion_before
    header = f"| metric | v{facts.logged.version} (this run) |"
    rule = "|---|---|"
    if facts.champion_metrics is not None:
        header += f" champion v{champion} (same test rows) | change |"
        rule += "---|---|"
    lines = [header, rule]
    for name in dict.fromkeys([facts.decision.metric, *SUMMARY_METRICS]):
        value = facts.metrics.get(name)
        if value is None:
            continue
        line = f"| {name}{' (gate)' if name == facts.decision.metric else ''} | {value:.4f} |"
        if facts.champion_metrics is not None:
            before = facts.champion_metrics.get(name, float("nan"))
            line += f" {before:.4f} | {value - before:+.4f} |"
        lines.append(line)
    return lines


def _deliveries(deliveries: dict[str, list[dict]]) -> str:
    parts = []
    for source, rows in deliveries.items():
        if not rows:
            parts.append(f"{source}: nothing new")
            continue
        accepted = sum(1 for r in rows if r.get("status") == "accepted")
        quarantined = sum(int(r.get("quarantined") or 0) for r in rows)
        parts.append(
            f"{source}: {accepted} of {len(rows)} deliveries accepted, "
            f"{quarantined} rows quarantined"
        )
    return "; ".join(parts)


def summary_markdown(facts: RunFacts) -> str:
    """The run's summary: decision and reason, metrics against the champion's, data, links."""
    logged, decision = facts.logged, facts.decision
    lines = [
        f"## {logged.model} v{logged.version}: **{decision.decision}**, now `{facts.alias}`",
        "",
        decision.reason,
        "",
        *_metrics_table(facts),
        "",
        "| data | months | rows |",
        "|---|---|---|",
    ]
    for part in ("train", "validation", "test"):
        lines.append(f"| {part} | {_months(facts.periods[part])} | {facts.rows[part]:,} |")
    lines += [
        "",
        f"Rows left out without a label: {facts.rows_without_label:,}. "
        f"New deliveries: {_deliveries(facts.deliveries)}.",
    ]
    if facts.overrides:
        changed = ", ".join(f"`{path}` = `{value}`" for path, value in facts.overrides.items())
        lines += ["", f"Changed from the config file: {changed}."]
    if facts.links:
        lines += ["", " · ".join(f"[{text}]({url})" for text, url in facts.links.items())]
    return "\n".join(lines)


def expectations_markdown(rows: list[dict]) -> str:
    """Every expectation's outcome as a Markdown table whose ``why`` column wraps, not cuts."""
    lines = [
        "| expectation | column | gate | result | unexpected | failing rows e.g. | why it exists |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        result = "passed" if r["success"] else "**failed**"
        unexpected = (
            f"{r['unexpected']} ({r['unexpected_percent']:.2f} %)" if r["unexpected"] else ""
        )
        sample = ", ".join(map(str, r["sample_failing_rows"]))
        lines.append(
            f"| {r['expectation']} | {r['column'] or ''} | {r['gate']} | {result} "
            f"| {unexpected} | {sample} | {r['why']} |"
        )
    return "\n".join(lines)


def links_markdown(links: dict[str, str]) -> str:
    """A bulleted list of links, one per line."""
    return "\n".join(f"- [{text}]({url})" for text, url in links.items())
