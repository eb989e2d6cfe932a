"""The local stack behind ``make up`` / ``make down``: bring it up, take it down, say what runs.

The servers are specified in ``servers``, their processes supervised by ``processes``, and
every question to the Prefect API goes through ``boundaries.prefect_api``. The stack's state
is ``$RETRAINER_HOME/stack``: ``<name>.pid``, ``prefect_api_url`` and ``mlflow_ui_url``.

The deployments are executed by the serve process, or, with a work pool, registered on it
for the workers (``retrainer worker``) that run on other machines and that ``up`` does not
start, nor ``down`` stop.
"""

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from retrainer.boundaries import prefect_api
from retrainer.boundaries.settings import (
    DATA_DOCS_URL_FILE,
    MLFLOW_TRACKING_URI_FILE,
    MLFLOW_UI_URL_FILE,
    PREFECT_API_URL_FILE,
    Home,
)
from retrainer.operations import postgres, processes
from retrainer.operations.processes import StackError
from retrainer.operations.servers import (
    POSTGRES,
    SERVE,
    SERVICES,
    STORE_VARIABLES,
    StackOptions,
    StackUrls,
    child_environment,
    connect_host,
    postgres_environment,
    postgres_server,
    serve_argv,
    servers,
    stack_urls,
)

SCHEDULE_WAIT_SECONDS = 30.0

__all__ = ["StackError", "StackOptions", "StackUrls", "check_ports", "down", "running", "up"]


def up(h: Home, options: StackOptions, echo: Callable[[str], None] = print) -> StackUrls:
    """Start whatever part of the stack is not running, wait until it answers; return URLs."""
    urls = stack_urls(options)
    env = child_environment(h, options, urls)
    started_at = datetime.now(UTC)
    specs = servers(h, options, urls)
    check_ports(h, options)
    if options.work_pool and processes.alive(h, SERVE):
        raise StackError(
            f"{SERVE} is running (a `make up` without RETRAINER_WORK_POOL) and would execute "
            f"the runs beside the workers of pool {options.work_pool}: `make down` first"
        )
    database = None
    if options.postgres:
        secret = postgres.password(h)
        database = postgres_server(h, options, secret)
    for server in [*([database] if database else []), *specs]:
        if processes.alive(h, server.name):
            echo(f"{server.name} already running (pid {processes.pid(h, server.name)})")
    if database is not None:
        postgres.ensure_cluster(h, secret)
        if not processes.alive(h, database.name):
            processes.spawn(h, database.name, database.argv, env)
        processes.wait_ready(h, database.name, database.answers, options.timeout_seconds)
        postgres.create_databases(connect_host(options.host), options.postgres_port, secret)
        env = env | postgres_environment(options, secret, urls)
    # Both servers start at once: their cold starts (10-20 s each) overlap.
    for server in specs:
        if not processes.alive(h, server.name):
            processes.spawn(h, server.name, server.argv, env)
    for server in specs:
        processes.wait_ready(h, server.name, server.answers, options.timeout_seconds)
    (h.stack / PREFECT_API_URL_FILE).write_text(urls.prefect_api + "\n")
    (h.stack / MLFLOW_UI_URL_FILE).write_text(urls.mlflow_ui + "\n")
    (h.stack / DATA_DOCS_URL_FILE).write_text(urls.data_docs + "\n")
    if database is not None:
        (h.stack / MLFLOW_TRACKING_URI_FILE).write_text(urls.mlflow_ui + "\n")

    if options.work_pool:
        _register_on_pool(options.configs, options.work_pool, urls.prefect_api, echo)
    elif processes.alive(h, SERVE):
        echo(f"{SERVE} already running (pid {processes.pid(h, SERVE)})")
    else:
        names = {_deployment_name(config) for config in options.configs}
        # The flows need the servers' addresses, not the database passwords behind them.
        serve_env = {k: v for k, v in env.items() if k not in STORE_VARIABLES}
        serve_env["PREFECT_API_URL"] = urls.prefect_api
        processes.spawn(h, SERVE, serve_argv(options.configs), serve_env)
        processes.wait_ready(
            h,
            SERVE,
            lambda: prefect_api.serving(urls.prefect_api, names, started_at),
            options.timeout_seconds,
        )
    # Registering a deployment again deletes its future runs; the server's scheduler makes
    # them again within seconds. Waiting for that lets `up` show the next run, and catches
    # a scheduler that never makes any (Prefect with SQLAlchemy 2.1 fails this silently).
    for deployment in _unscheduled(urls.prefect_api, started_at, options.work_pool):
        echo(
            f"warning: {deployment} has an active schedule but the Prefect server made no "
            f"scheduled runs for it within {SCHEDULE_WAIT_SECONDS:.0f} s; see "
            f"{h.logs / 'prefect-server.log'} (SQLAlchemy 2.1 breaks Prefect's scheduler)"
        )
    return urls


def _register_on_pool(
    configs: list[Path], pool: str, api: str, echo: Callable[[str], None]
) -> None:
    """Register the deployments on work pool ``pool``; a refusal is a ``StackError``."""
    from deployments import register_on_pool

    try:
        with prefect_api.api_in_use(api):
            names = register_on_pool(configs, pool)
    except Exception as exc:  # a bad cron, a pool of another type, a refused request
        raise StackError(f"registering the deployments on work pool {pool} failed: {exc}") from exc
    echo(
        f"registered {len(names)} deployments on work pool {pool}: "
        "`retrainer worker` on each machine that should run them"
    )


def check_ports(h: Home, options: StackOptions) -> None:
    """Raise, naming the option to change, when a server's port is taken by anything else.

    Reads pid files only: it creates nothing, so a refused ``up`` leaves nothing behind.
    """
    ports = [(s.name, s.port, s.option) for s in servers(h, options, stack_urls(options))]
    if options.postgres:
        ports.append((POSTGRES, options.postgres_port, "--postgres-port"))
    for name, port, option in ports:
        if not processes.alive(h, name) and not processes.port_is_free(options.host, port):
            raise StackError(
                f"{name}: port {port} on {options.host} is taken by another "
                f"program; pick a free one with `retrainer up {option} PORT` "
                f'(make up UP_ARGS="{option} PORT") or stop that program'
            )


def down(h: Home, echo: Callable[[str], None] = print) -> list[str]:
    """Stop every process ``up`` started (serve first); return the names that were running."""
    api = h.stack_url(PREFECT_API_URL_FILE)
    stopped = []
    for name in SERVICES:
        pid = processes.stop(h, name)
        if pid is None:
            continue
        stopped.append(name)
        echo(f"stopped {name} (pid {pid})")
        if name == SERVE and api:
            prefect_api.crash_in_flight_runs(
                api, "the serve process was stopped by `retrainer down` during this run", echo
            )
    for url_file in (
        PREFECT_API_URL_FILE,
        MLFLOW_UI_URL_FILE,
        DATA_DOCS_URL_FILE,
        MLFLOW_TRACKING_URI_FILE,
    ):
        (h.stack / url_file).unlink(missing_ok=True)
    return stopped


def running(h: Home) -> dict[str, int]:
    """The stack's processes that are alive, by name, with their pids."""
    return {
        name: pid
        for name in SERVICES
        if (pid := processes.pid(h, name)) and processes.alive(h, name)
    }


def _deployment_name(config: Path) -> str:
    # The deployment is named after the config's `name`.
    from retrainer.domain.config import load_config

    return load_config(config).name


def _unscheduled(api: str, since: datetime, pool: str | None) -> list[str]:
    """Deployments still without a scheduled run after ``SCHEDULE_WAIT_SECONDS``."""
    deadline = time.monotonic() + SCHEDULE_WAIT_SECONDS
    while True:
        missing = prefect_api.unscheduled(api, since, pool)
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(0.5)
