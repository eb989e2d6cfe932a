"""The `retrainer` command line: the same functions the flows call.

Start with `retrainer land --all` and `retrainer run`; `retrainer status` says where things
stand. Every command's --help ends with examples.
"""

import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from retrainer.boundaries.settings import bundled_configs, config_path, configure_environment

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help=__doc__,
    rich_markup_mode="rich",
    # Unexpected errors are one line plus the log's path (main() below), not a rich traceback.
    pretty_exceptions_enable=False,
)
VERBOSE = {"on": False}

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="config file", exists=True, dir_okay=False)
]


def examples(*lines: str) -> str:
    """A command's help epilog: a few command lines to copy."""
    return "[bold]Examples[/bold]\n\n" + "\n\n".join(f"  $ {line}" for line in lines)


@app.callback()
def options(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="print full traces and every library's log")
    ] = False,
) -> None:
    """Options for every command."""
    VERBOSE["on"] = verbose


def _load(path: Path, columns: bool = True):
    """The data set at ``path``; a broken config ends the command with its problems, exit 2."""
    from retrainer.domain.config import ConfigError, load_dataset

    try:
        return load_dataset(path, columns)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _require_server() -> None:
    """End the command (exit 2) when no Prefect server is configured or found."""
    if not os.environ.get("PREFECT_API_URL"):
        typer.echo("error: no Prefect server: `make up` starts one (or set PREFECT_API_URL)")
        raise typer.Exit(2)


def _console():
    from rich.console import Console

    return Console(highlight=False)


@app.command(
    epilog=examples(
        "retrainer land --month 3",
        "retrainer land --all --every 25     # a quick sample: every 25th flight",
    )
)
def land(
    month: Annotated[int | None, typer.Option(help="deliver this month (1-12) of the demo")] = None,
    all_months: Annotated[bool, typer.Option("--all", help="deliver all twelve months")] = False,
    every: Annotated[int, typer.Option(min=1, help="keep every n-th flight (quick looks)")] = 1,
    dataset: Annotated[str, typer.Option(help="data set named in the landing event")] = "flights",
) -> None:
    """Deliver demo data (nycflights13) into the landing zone, month by month.

    With a Prefect server up (`make up`), each month also sends a `retrainer.data.landed`
    event, which starts a retrain once the landings stop.
    """
    from rich.progress import Progress

    from retrainer.boundaries import demo
    from retrainer.boundaries.prefect_api import PrefectApiError, emit_landed

    h = configure_environment()
    if (month is None) == (not all_months):
        raise typer.BadParameter("give exactly one of --month N or --all")
    months = list(demo.MONTHS) if all_months else [month]
    landings = []
    with Progress(console=_console(), transient=True) as progress:
        bar = progress.add_task("landing the demo months", total=len(months))
        for m in months:
            try:
                written = demo.land_month(h.landing, m, every)
            except ValueError as exc:
                raise typer.BadParameter(str(exc)) from exc
            progress.console.print(f"landed month {m}: {len(written)} files under {h.landing}")
            landings.append(
                (f"{demo.YEAR}-{m:02d}", [str(p.relative_to(h.landing)) for p in written])
            )
            progress.advance(bar)
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


def _checked(path: Path):
    """The data set at ``path``, its columns checked against the sources; exit 2 if wrong."""
    from retrainer.boundaries.landed import landed_columns
    from retrainer.domain.checks import check_columns
    from retrainer.operations.console import check_view

    h = configure_environment()
    dataset = _load(path, columns=False)  # the columns come next, with the landed data
    landed = landed_columns(dataset.config, h.landing)
    check = check_columns(dataset.config, landed)
    if not check.ok or check.warnings:
        _console().print(check_view(path, check, landed))
    if not check.ok:
        raise typer.Exit(2)
    return dataset, landed, check


@app.command(
    epilog=examples(
        "retrainer check --config configs/flights.yaml",
        "retrainer check -c my_data_set.yaml",
    )
)
def check(config: ConfigOption = config_path()) -> None:
    """Check a config and nothing else: fields, and every column it names.

    Columns are checked against what the sources declare and, for sources that have
    delivered, against what the deliveries carry. Every problem is listed, one line each,
    with the closest existing name. Exit code 2 when the config cannot run.
    """
    from retrainer.operations.console import check_view

    _, landed, result = _checked(config)
    if result.ok and not result.warnings:
        _console().print(check_view(config, result, landed))


ParamOption = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        "-p",
        help="override a config field, e.g. model.params.max_iter=50 (repeatable)",
    ),
]


@app.command(
    epilog=examples(
        "retrainer run",
        "retrainer --verbose run --config configs/flights.yaml    # every log line, live",
    )
)
def run(
    config: ConfigOption = config_path(),
    param: ParamOption = None,
    force: Annotated[
        bool, typer.Option(help="retrain even if data and training config are unchanged")
    ] = False,
) -> None:
    """Run the retrain flow once and print what it did.

    The config is checked first. While the flow runs the terminal shows its steps; the full
    log goes to $RETRAINER_HOME/logs/cli.log (and, with `make up`, to the Prefect UI).
    """
    h = configure_environment()
    dataset, _, _ = _checked(config)
    _preflight(h)
    from flows.retrain import retrain
    from retrainer.domain.overrides import OverrideError, apply_overrides, parse_assignments
    from retrainer.operations.console import format_summary

    retrain_config = dataset.config
    if param:
        try:
            base = dataset.config.model_dump(mode="json")
            retrain_config = apply_overrides(base, parse_assignments(param))
        except OverrideError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
    if VERBOSE["on"]:
        summary = retrain(config=retrain_config, force=force)
    else:
        summary = _run_quietly(retrain, retrain_config, h.logs / "cli.log", force=force)
    typer.echo(format_summary(summary, h.root, h.mlflow_uri))


def _preflight(h) -> None:
    """Before Prefect starts and anything is ingested: a dead tracking server or a full disk
    is one line now, not minutes of retries after the work (exit 2)."""
    from retrainer.boundaries.health import (
        ServiceUnavailableError,
        check_lake,
        check_tracking_server,
    )

    try:
        check_tracking_server(h.mlflow_uri)
        check_lake(h.lake)
    except ServiceUnavailableError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


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


def _run_quietly(flow, config, log: Path, **parameters):
    """Run ``flow`` with the terminal showing steps only; a failure ends the command clearly."""
    from retrainer.operations.progress import quiet_terminal

    with quiet_terminal(log, f"{flow.name} {config.name}") as steps:
        state = flow(config=config, return_state=True, **parameters)
        steps.finish_step() if state.is_completed() else steps.finish_step("[red]✗[/red]")
    # Prefect's temporary server logs its shutdown when this process exits, after the
    # summary: the terminal is the summary's now.
    logging.getLogger("prefect").setLevel(logging.WARNING)
    if state.is_completed():
        return state.result()
    where = _run_page(steps.flow_run_id)
    _explain(state.result(raise_on_failure=False), log, where)
    raise typer.Exit(1)


def _run_page(flow_run_id: str | None) -> str:
    """The run's page in the Prefect UI, when a server outlives this command."""
    api = os.environ.get("PREFECT_API_URL")
    if not (api and flow_run_id):
        return ""
    return f"\n  the run in the Prefect UI: {api.removesuffix('/api')}/runs/flow-run/{flow_run_id}"


def _explained() -> tuple[type[BaseException], ...]:
    """Errors written for people: their message says what failed and what to do."""
    from retrainer.boundaries.in_service import NoChampionError
    from retrainer.boundaries.lake import EmptyLakeError
    from retrainer.boundaries.validation import DataValidationError
    from retrainer.domain.config import ConfigError
    from retrainer.domain.features import LeakageError
    from retrainer.domain.monitoring import MonitoringError
    from retrainer.domain.splits import SplitError
    from tasks.ingest import RejectedDeliveryError

    return (
        ConfigError,
        DataValidationError,
        EmptyLakeError,
        LeakageError,
        MonitoringError,
        NoChampionError,
        RejectedDeliveryError,
        SplitError,
    )


def _explain(error: BaseException, log: Path, where: str = "") -> None:
    """Print a failure: a gate's own message in full, anything else in one line; log it."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as out:
        traceback.print_exception(error, file=out)
    if isinstance(error, _explained()):
        typer.echo(f"error: {error}{where}\n  full log: {log}", err=True)
        return
    first = (str(error).strip().splitlines() or [""])[0]
    typer.echo(f"error: {type(error).__name__}: {first}{where}\n  full trace: {log}", err=True)


ReasonOption = Annotated[str, typer.Option("--reason", help="why (recorded in the history)")]
ByOption = Annotated[str | None, typer.Option("--by", help="who asks (default: your user name)")]


def _move(config: Path, move) -> None:
    """Run an alias move by hand on the config's model; refusals end with exit 1."""
    h = configure_environment()
    model = _load(config).config.mlflow.registered_model
    from retrainer.boundaries import aliases, tracking
    from retrainer.boundaries.locks import LockTimeout
    from retrainer.operations.console import move_text

    tracking.connect(h.mlflow_uri)
    try:
        done = move(aliases, model)
    except (aliases.MoveRefused, tracking.RegistryError, LockTimeout) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(move_text(model, done))


@app.command()
def promote(
    version: Annotated[str, typer.Argument(help="the model version to make champion")],
    reason: ReasonOption,
    config: ConfigOption = config_path(),
    by: ByOption = None,
) -> None:
    """Make a model version the champion by hand, whatever the gate said (recorded)."""
    import getpass

    who = by or getpass.getuser()
    _move(config, lambda aliases, model: aliases.promote(model, version, reason, who))


@app.command()
def rollback(
    reason: ReasonOption, config: ConfigOption = config_path(), by: ByOption = None
) -> None:
    """Give the champion alias back to the previous champion (recorded)."""
    import getpass

    who = by or getpass.getuser()
    _move(config, lambda aliases, model: aliases.rollback(model, reason, who))


@app.command()
def history(config: ConfigOption = config_path()) -> None:
    """Every move of the model's aliases: when, from, to, why, by which run or person."""
    h = configure_environment()
    model = _load(config).config.mlflow.registered_model
    from retrainer.boundaries import aliases, tracking
    from retrainer.operations.console import history_text

    tracking.connect(h.mlflow_uri)
    try:
        moves = aliases.history(model)
    except tracking.RegistryError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(history_text(model, moves))


@app.command(
    epilog=examples(
        "retrainer audit",
        "retrainer audit --markdown > audit.md",
    )
)
def audit(
    config: ConfigOption = config_path(),
    markdown: Annotated[bool, typer.Option(help="print Markdown instead of tables")] = False,
) -> None:
    """Print the data audit: counts per source and partition, null rates, quarantine reasons."""
    h = configure_environment()
    from retrainer.boundaries.lake import Lake
    from retrainer.domain.audit import as_markdown, erasures_markdown
    from retrainer.operations.console import audit_view

    dataset = _load(config)
    sources = dataset.config.sources
    lake = Lake(h.lake)
    audits = lake.audit(
        [s.name for s in sources],
        time_columns={s.name: s.time_column for s in sources},
        timezone=dataset.config.split.timezone,
    )
    if markdown:
        typer.echo(as_markdown(audits))
    else:
        _console().print(audit_view(audits))
    erasures = erasures_markdown(lake.erasures())
    if erasures:
        typer.echo(erasures)


@app.command(
    epilog=examples(
        "retrainer validate landing/flights/flights_2013_03.csv --source flights",
        "retrainer validate new_batch.jsonl -s weather -c configs/flights.yaml",
    )
)
def validate(
    file: Annotated[Path, typer.Argument(help="the file to check", exists=True, dir_okay=False)],
    source: Annotated[str, typer.Option("--source", "-s", help="the source it belongs to")],
    config: ConfigOption = config_path(),
) -> None:
    """Check one file against a source's schema and expectations; the lake is not touched.

    Shows whether ingestion would accept it, every expectation's outcome with why it exists,
    and the rows it would quarantine, grouped by reason. Exit code 1 when it would be
    rejected.
    """
    h = configure_environment()
    dataset = _load(config)
    names = [s.name for s in dataset.config.sources]
    if source not in names:
        from retrainer.domain.checks import did_you_mean

        raise typer.BadParameter(
            f"no source {source!r}{did_you_mean(source, names)}; sources: {', '.join(names)}"
        )
    from retrainer.boundaries.preview import preview_file
    from retrainer.boundaries.settings import expectations_dir
    from retrainer.operations.console import preview_view

    with _console().status(f"checking {file.name} against {source}'s suite"):
        preview = preview_file(file, dataset.config.source(source), expectations_dir(), h.gx)
    _console().print(preview_view(preview))
    if preview.verdict != "accepted":
        raise typer.Exit(1)


@app.command(
    epilog=examples(
        "retrainer status",
        "retrainer status --config configs/flights.yaml",
    )
)
def status(config: ConfigOption = config_path()) -> None:
    """Where things stand: champion, last runs, servers, next runs, rejected deliveries.

    The champion's version and scores, the latest runs with their decisions, whether the
    servers of `make up` answer, when each deployment runs next, and the deliveries the
    data gates rejected (fix them at the source and deliver again).
    """
    h = configure_environment()
    dataset = _load(config)
    from retrainer.boundaries import tracking
    from retrainer.boundaries.lake import Lake
    from retrainer.domain.links import runs_list
    from retrainer.operations.console import status_view

    cfg = dataset.config
    with _console().status("reading MLflow, the lake and the servers"):
        model = tracking.model_status(
            h.mlflow_uri, cfg.mlflow.experiment, cfg.mlflow.registered_model
        )
        state = _stack_state(h, dataset)
        rejected = [r for r in Lake(h.lake).records() if r.status == "rejected"]
    ui = tracking.ui_url(h)
    link = (
        runs_list(ui, model.experiment_id, tracking.RUNS_VIEW)
        if ui and model.experiment_id
        else None
    )
    view = status_view(
        cfg.mlflow.registered_model, cfg.promotion.metric, model, state, rejected, link
    )
    _console().print(view)


def _stack_state(h, dataset):
    """Each server's address and whether it answers; the next scheduled runs."""
    import httpx

    from retrainer.boundaries.prefect_api import api_answers, next_scheduled, online_workers
    from retrainer.boundaries.settings import (
        DATA_DOCS_URL_FILE,
        MLFLOW_UI_URL_FILE,
        PREFECT_API_URL_FILE,
        settings,
    )
    from retrainer.operations import stack
    from retrainer.operations.console import StackState, local_time

    def answers(url: str | None, path: str) -> bool:
        try:
            return bool(url) and httpx.get(f"{url}{path}", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    api = h.stack_url(PREFECT_API_URL_FILE) or os.environ.get("PREFECT_API_URL")
    mlflow_ui, docs = h.stack_url(MLFLOW_UI_URL_FILE), h.stack_url(DATA_DOCS_URL_FILE)
    running = stack.running(h)
    prefect_up = bool(api) and api_answers(api)
    servers = {
        "Prefect": (api.removesuffix("/api") if api else "-", prefect_up),
        "MLflow": (mlflow_ui or "-", answers(mlflow_ui, "/health")),
        "Data Docs": (docs or str(h.data_docs), answers(docs, "/_health")),
    }
    pool = settings().work_pool
    if pool:
        workers = online_workers(api, pool) if prefect_up else []
        servers[f"deployments (work pool {pool})"] = (
            f"workers online: {', '.join(workers)}" if workers else "no worker online",
            bool(workers),
        )
    else:
        servers["deployments (serve)"] = (
            f"pid {running['serve']}" if "serve" in running else "-",
            "serve" in running,
        )
    next_runs = {}
    if prefect_up:
        for flow in ("retrain", "ingest"):
            due = next_scheduled(api, flow, dataset.config.name)
            when = local_time(due, dataset.deployment.timezone) if due else "not scheduled"
            next_runs[f"{flow}/{dataset.config.name}"] = when
    return StackState(servers, next_runs)


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


@app.command(
    epilog=examples(
        "retrainer up",
        "retrainer up --prefect-port 4201 --mlflow-port 5001 --data-docs-port 4301",
        'make up UP_ARGS="--host 0.0.0.0"',
    )
)
def up(
    config: ConfigsOption = None,
    host: Annotated[str, typer.Option(help="interface the servers bind to")] = "127.0.0.1",
    prefect_port: Annotated[int, typer.Option(help="Prefect server port")] = 4200,
    mlflow_port: Annotated[int, typer.Option(help="MLflow server port")] = 5000,
    data_docs_port: Annotated[int, typer.Option(help="Data Docs server port")] = 4300,
    database_url: Annotated[
        str | None,
        typer.Option(
            envvar="RETRAINER_PREFECT_DATABASE_URL",
            help="Prefect database, e.g. postgresql+asyncpg://user:pw@host/prefect "
            "(default: SQLite under RETRAINER_HOME)",
        ),
    ] = None,
    postgres: Annotated[
        bool,
        typer.Option(
            "--postgres",
            help="keep Prefect's and MLflow's data in a local PostgreSQL server (Debian's "
            "postgresql package) under RETRAINER_HOME/postgres instead of SQLite",
        ),
    ] = False,
    postgres_port: Annotated[int, typer.Option(help="PostgreSQL port (--postgres)")] = 5432,
    timeout: Annotated[float, typer.Option(help="seconds to wait for each server")] = 180.0,
) -> None:
    """Start the Prefect, MLflow and Data Docs servers and the deployments; print the URLs.

    With RETRAINER_WORK_POOL set, the deployments are registered on that Prefect process work
    pool and no serve process starts: `retrainer worker`, on each machine that should run
    them, executes their runs.
    """
    from pydantic import SecretStr

    from retrainer.boundaries.prefect_api import next_scheduled
    from retrainer.boundaries.settings import home, settings
    from retrainer.operations import processes, stack
    from retrainer.operations.console import local_time, stack_table

    configs = config or bundled_configs()
    options = stack.StackOptions(
        configs=configs,
        host=host,
        prefect_port=prefect_port,
        mlflow_port=mlflow_port,
        data_docs_port=data_docs_port,
        database_url=SecretStr(database_url) if database_url else None,
        postgres=postgres,
        postgres_port=postgres_port,
        timeout_seconds=timeout,
        work_pool=settings().work_pool or None,
    )
    try:
        # Before anything is created: a taken port leaves no folder behind.
        stack.check_ports(home(), options)
    except stack.StackError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    h = configure_environment()
    datasets = [_load(path) for path in configs]
    before = set(stack.running(h))
    try:
        with _console().status("starting the servers and the deployments"):
            urls = stack.up(h, options, echo=typer.echo)
    except stack.StackError as exc:
        typer.echo(f"error: {exc}", err=True)
        started = [name for name in stack.running(h) if name not in before]
        for name in started:
            processes.stop(h, name)
        stopped = f"stopped what this command started ({', '.join(started)}); " if started else ""
        typer.echo(f"{stopped}logs are in {h.logs}", err=True)
        raise typer.Exit(1) from exc
    next_runs = {}
    for dataset in datasets:
        for flow in ("retrain", "ingest"):
            due = next_scheduled(urls.prefect_api, flow, dataset.config.name)
            timezone = dataset.deployment.timezone
            next_runs[f"{flow}/{dataset.config.name}"] = (
                local_time(due, timezone) if due else "not scheduled"
            )
    typer.echo(stack_table(urls, next_runs, h.logs, options.work_pool))


@app.command(epilog=examples("retrainer down", "make down"))
def down() -> None:
    """Stop every process `up` started (pid files under RETRAINER_HOME/stack)."""
    from retrainer.operations import stack

    h = configure_environment()
    stopped = stack.down(h, echo=typer.echo)
    typer.echo("nothing was running" if not stopped else "stack stopped")


@app.command(epilog=examples("retrainer serve --config configs/flights.yaml   # `up` runs it"))
def serve(config: ConfigsOption = None) -> None:
    """Register the deployments on the Prefect server and execute their runs (`up` starts it)."""
    configure_environment()
    _require_server()
    from deployments import serve_deployments

    serve_deployments(config or bundled_configs())


@app.command(
    epilog=examples(
        "RETRAINER_WORK_POOL=retrainer retrainer worker     # beside `make up`, on this machine",
        "PREFECT_API_URL=http://orchestrator:4200/api MLFLOW_TRACKING_URI=http://orchestrator:5000 "
        "RETRAINER_HOME=/mnt/retrainer RETRAINER_WORK_POOL=retrainer retrainer worker --limit 1",
    )
)
def worker(
    pool: Annotated[
        str | None, typer.Option(help="the work pool to take runs from (RETRAINER_WORK_POOL)")
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="this worker's name in the UI (default: Prefect's)")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="at most this many runs at once on this machine")
    ] = None,
) -> None:
    """Execute the deployments' runs on this machine: a Prefect worker of the work pool.

    `make up` with RETRAINER_WORK_POOL registers the deployments on that pool. Each machine
    that should run them runs this command, from a checkout of the same commit (`make
    install`), with RETRAINER_HOME on the storage every machine shares and PREFECT_API_URL
    and MLFLOW_TRACKING_URI pointing at the servers (by default the addresses `make up`
    wrote into that home). Each run is a child process with this environment. Stop it with
    Ctrl-C.
    """
    from retrainer.boundaries.prefect_api import api_answers
    from retrainer.boundaries.settings import MLFLOW_UI_URL_FILE, home, settings
    from retrainer.operations.servers import worker_argv

    started = home().stack_url(MLFLOW_UI_URL_FILE)
    if started and "MLFLOW_TRACKING_URI" not in os.environ:
        # Through the server `make up` started: the runs of many machines, one writer of
        # its database (SQLite on shared storage would have one per machine).
        os.environ["MLFLOW_TRACKING_URI"] = started
    h = configure_environment()
    _require_server()
    pool = pool or settings().work_pool
    if not pool:
        typer.echo("error: no work pool: set RETRAINER_WORK_POOL (or --pool)", err=True)
        raise typer.Exit(2)
    api = os.environ["PREFECT_API_URL"]
    if not api_answers(api):
        typer.echo(f"error: the Prefect server at {api} does not answer", err=True)
        raise typer.Exit(2)
    _preflight(h)
    # Runs start within this many seconds of being due (Prefect's default is 10).
    os.environ.setdefault("PREFECT_WORKER_QUERY_SECONDS", "5")
    argv = worker_argv(pool, name, limit)
    typer.echo(f"worker of pool {pool} on {api}; runs log to MLflow at {h.mlflow_uri}")
    sys.stdout.flush()
    os.execv(argv[0], argv)


@app.command(
    epilog=examples(
        "retrainer trigger --wait",
        "retrainer trigger --wait -p model.params.max_iter=50 -p promotion.min_improvement=0.01",
        "retrainer trigger ingest-only-data-set --flow ingest",
    )
)
def trigger(
    dataset: Annotated[str, typer.Argument(help="the deployment's name: the config's `name`")] = (
        "flights"
    ),
    param: ParamOption = None,
    arg: Annotated[
        list[str] | None,
        typer.Option(
            "--arg",
            help="a flow parameter other than the config, e.g. version=2 or reason='...' "
            "(JSON values: 2 is a number, true a boolean, other text a string)",
        ),
    ] = None,
    flow: Annotated[
        str, typer.Option(help="which flow's deployment: retrain, ingest, promote, rollback")
    ] = "retrain",
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
    from retrainer.domain.overrides import OverrideError, parse_arguments, parse_assignments
    from retrainer.operations.console import finished_text
    from retrainer.operations.trigger import TriggerError, follow
    from retrainer.operations.trigger import trigger as start_run

    try:
        run = start_run(
            f"{flow}/{dataset}",
            parse_assignments(param or []),
            idempotency_key,
            parse_arguments(arg or []),
        )
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


@app.command(
    epilog=examples(
        "retrainer predict",
        "retrainer --verbose predict      # every log line, live",
    )
)
def predict(config: ConfigOption = config_path()) -> None:
    """Score the newly landed records with the champion into the lake's predictions zone.

    Each record is scored once per model version; a second run with nothing new writes
    nothing. The full log goes to $RETRAINER_HOME/logs/cli.log.
    """
    h = configure_environment()
    dataset = _load(config)
    from flows.predict import predict as predict_flow
    from retrainer.operations.console import format_predictions

    zone = h.lake / "predictions" / dataset.config.name
    summary = _run_flow(predict_flow, dataset.config, h.logs / "cli.log")
    typer.echo(format_predictions(summary, zone))


@app.command(
    epilog=examples(
        "retrainer monitor",
        "retrainer monitor --period 2013-12",
    )
)
def monitor(
    config: ConfigOption = config_path(),
    period: Annotated[
        str | None, typer.Option(help="month to monitor, YYYY-MM (default: the latest scored)")
    ] = None,
) -> None:
    """Monitor the champion's predictions of one month: drift, performance, alarms.

    The report goes to the Prefect UI (artifacts) and to MLflow (experiment
    <experiment>-monitoring); beyond the config's thresholds an alarm event is sent.
    """
    h = configure_environment()
    dataset = _load(config)
    from flows.monitor import monitor as monitor_flow
    from retrainer.operations.console import format_monitoring

    summary = _run_flow(monitor_flow, dataset.config, h.logs / "cli.log", period=period)
    typer.echo(format_monitoring(summary))


def _run_flow(flow, config, log: Path, **parameters):
    """Run a flow as ``retrainer run`` does: live with --verbose, else quietly."""
    if VERBOSE["on"]:
        return flow(config=config, **parameters)
    return _run_quietly(flow, config, log, **parameters)


@app.command(
    "serve-model",
    epilog=examples(
        "retrainer serve-model",
        "retrainer serve-model --port 5002 --poll 10",
    ),
)
def serve_model(
    config: ConfigOption = config_path(),
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port of the model server")] = 5001,
    poll: Annotated[
        float, typer.Option(help="seconds between checks of the champion alias")
    ] = 30.0,
) -> None:
    """Serve the champion over HTTP (MLflow's model server); restart it when the alias moves."""
    from retrainer.operations.model_server import ModelServerError, serve_champion

    h = configure_environment()
    dataset = _load(config)
    try:
        serve_champion(h, dataset.config.mlflow.registered_model, host, port, poll, typer.echo)
    except ModelServerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except KeyboardInterrupt:
        typer.echo("model server stopped")


def main() -> None:
    """Entry point: an unexpected error prints one line and where its full trace is."""
    try:
        app()
    except Exception as exc:  # the last line of defence: say it in one line
        from retrainer.boundaries.settings import home

        if VERBOSE["on"]:
            traceback.print_exception(exc)
        _explain(exc, home().logs / "cli.log")
        sys.exit(1)
