"""Markdown a person reads in the Prefect UI, rendered from the run's results (never parsed)."""

from dataclasses import dataclass, field
from typing import Any

from retrainer.domain.comparison import Comparison, SliceRow
from retrainer.domain.explain import Importance, ImportanceChange
from retrainer.domain.fingerprint import Unchanged
from retrainer.domain.history import AliasMove, version_label
from retrainer.domain.model_card import ModelCard
from retrainer.domain.promotion import Decision, format_p
from retrainer.domain.records import LoggedModel


def _number(value: float | None, digits: int = 4) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"


def decision_markdown(logged: LoggedModel, decision: Decision) -> str:
    """The promotion decision: verdict, reason, the two scores, the evidence and the slices."""
    champion = f"v{decision.champion_before}" if decision.champion_before else "-"
    text = (
        f"### {logged.model} v{logged.version}: **{decision.decision}**\n\n"
        f"{decision.reason}\n\n"
        f"| | {decision.metric} |\n|---|---|\n"
        f"| challenger v{logged.version} | {_number(decision.challenger_metric)} |\n"
        f"| champion {champion} | {_number(decision.champion_metric)} |\n\n"
    )
    if decision.comparison is not None:
        text += comparison_markdown(decision.comparison)
    return text + f"MLflow run `{logged.run_id}`, model `{logged.model_uri}`"


def comparison_markdown(c: Comparison) -> str:
    """The paired test and the slice table of a comparison."""
    s = c.significance
    text = (
        f"**Gain** {s.gain:+.4f}, {s.level:.0%} CI {s.low:+.4f} to {s.high:+.4f}; "
        f"{s.method}, p {format_p(s.p_value)}; {s.rows} rows compared"
        + (f" ({c.note})" if c.note else "")
        + "\n\n"
    )
    if c.slices:
        text += slice_markdown(c.slices, c.metric) + "\n"
    return text


def slice_markdown(rows: list[SliceRow], metric: str) -> str:
    """The per-slice table: rows, both models, the change, whether it was checked or lost."""
    compared = any(r.champion is not None for r in rows)
    if not compared:
        lines = [f"| slice | rows | {metric} |", "|---|---|---|"]
        lines += [f"| {r.column}={r.value} | {r.rows} | {_number(r.challenger)} |" for r in rows]
        return "\n".join(lines) + "\n"
    lines = [
        f"| slice | rows | challenger {metric} | champion {metric} | change | checked |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        mark = "**loses**" if r.loses else ("yes" if r.gated else "too small")
        change = "-" if r.change is None or r.change != r.change else f"{r.change:+.4f}"
        lines.append(
            f"| {r.column}={r.value} | {r.rows} | {_number(r.challenger)} | "
            f"{_number(r.champion)} | {change} | {mark} |"
        )
    return "\n".join(lines) + "\n"


def no_change_markdown(model: str, unchanged: Unchanged) -> str:
    """Why a retrain trained and registered nothing."""
    return (
        f"### {model}: **no change**\n\n{unchanged.reason}\n\n"
        f"The version that trained on this data: v{unchanged.past.version} "
        f"(MLflow run `{unchanged.past.run_id}`)."
    )


def move_markdown(model: str, move: AliasMove) -> str:
    """One alias move by hand: what moved where, why, by whom."""
    return (
        f"### {model}@{move.alias}: {version_label(move.from_version)} -> "
        f"{version_label(move.to_version)} ({move.action})\n\n"
        f"{move.reason}\n\nBy {move.by}, {move.when}; history entry #{move.seq}."
    )


def importance_markdown(importance: Importance, top: int = 15) -> str:
    """The features a model relies on most, by the method that measured it."""
    lines = [f"| feature | {importance.method} |", "|---|---|"]
    lines += [
        f"| {name} | {value:.4f} |" for name, value in list(importance.features.items())[:top]
    ]
    return "\n".join(lines) + "\n"


def change_markdown(change: list[ImportanceChange], top: int = 15) -> str:
    """Importance in the champion and the challenger, the features that moved most first."""
    lines = ["| feature | champion | challenger | change | rank |", "|---|---|---|---|---|"]
    for r in change[:top]:
        rank = f"{r.champion_rank or '-'} -> {r.challenger_rank or '-'}"
        moved = "-" if r.change is None else f"{r.change:+.4f}"
        lines.append(
            f"| {r.feature} | {_number(r.champion)} | {_number(r.challenger)} | {moved} | {rank} |"
        )
    return "\n".join(lines) + "\n"


def card_markdown(card: ModelCard) -> str:
    """The model card as a person reads it in MLflow and in the Prefect UI."""
    level = f"{card.level:.0%}"
    metrics = [f"| metric | value | {level} interval | interval by |", "|---|---|---|---|"]
    metrics += [
        f"| {m.name} | {m.value:.4f} | {_number(m.low)} to {_number(m.high)} | {m.method} |"
        for m in card.metrics
    ]
    data = ["| source | rows | from | to | sha256 |", "|---|---|---|---|---|"]
    data += [
        f"| {d.name} | {d.rows} | {d.first} | {d.last} | `{d.sha256[:16]}` |" for d in card.data
    ]
    e = card.explanation
    sections = [
        f"# Model card: {card.model} v{card.version}",
        f"## Intended use\n\n{card.intended_use or '(not stated: set `model_card.intended_use`)'}"
        f"\n\nPredicts {card.prediction}.",
        f"## Model\n\n{card.family} with {card.params or 'default parameters'}; decision "
        f"threshold {card.threshold:.3f}; MLflow run `{card.run_id}`.\n\nFeatures: "
        + ", ".join(f"`{f}`" for f in card.features),
        "## Data\n\n" + "\n".join(data) + "\n\n"
        f"Training table sha256 `{card.fingerprint.data_sha256}`, training config sha256 "
        f"`{card.fingerprint.config_sha256}`. Trained on {', '.join(card.periods['train'])} "
        f"({card.rows['train']} rows; candidates chosen by cross-validation on "
        f"{', '.join(card.periods['validation'])}, then refitted on all of it); tested on "
        f"{', '.join(card.periods['test'])} ({card.rows['test']} rows).",
        "## Test metrics\n\n" + "\n".join(metrics),
        "## Slices\n\n"
        + (slice_markdown(card.slices, card.slice_metric) if card.slices else "none configured"),
        f"## What it relies on\n\n{importance_markdown(e.challenger)}"
        + (f"\nChange from the champion:\n\n{change_markdown(e.change)}" if e.change else "")
        + (f"\n{e.note}" if e.note else ""),
        "## Known limits\n\n" + "\n".join(f"- {limit}" for limit in card.limitations),
    ]
    return "\n\n".join(sections) + "\n"


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
            before = facts.champion_metrics.get(name)
            change = "-" if before is None else f"{value - before:+.4f}"
            line += f" {_number(before)} | {change} |"
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
