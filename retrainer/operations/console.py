"""What the terminal shows: the CLI's results rendered as text, and nothing else."""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

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


def local_time(when: datetime, timezone: str) -> str:
    """``Mon 2026-11-30 06:00 EST``: a time as a person in ``timezone`` reads it."""
    return when.astimezone(ZoneInfo(timezone)).strftime("%a %Y-%m-%d %H:%M %Z")


def stack_table(urls: StackUrls, next_runs: dict[str, str], logs: Path) -> str:
    """Where the running stack answers, when each deployment runs next, how to go on."""
    rows = [
        ("Prefect UI", urls.prefect_ui),
        ("Prefect API", urls.prefect_api),
        ("MLflow UI", urls.mlflow_ui),
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
