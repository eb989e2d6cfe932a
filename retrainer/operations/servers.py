"""What the local stack runs: each server's command line, health URL and environment.

- ``prefect server start``: API and UI; SQLite under ``$RETRAINER_HOME/prefect`` unless a
  database URL is given;
- ``mlflow server`` over the same ``sqlite:///$RETRAINER_HOME/mlflow.db`` the CLI and the flows
  write to directly, with local artifact paths, so both see the same runs and models;
- the Great Expectations Data Docs, served with their scripts and styles installed locally
  (``docs_server``), so that links from the Prefect UI open and the pages work offline;
- ``retrainer serve``: registers the deployments in ``deployments/`` and executes their runs;
  with a work pool (``RETRAINER_WORK_POOL``) there is no serve process: ``up`` registers the
  deployments on the pool and ``retrainer worker`` (``worker_argv``), on each machine that
  should run them, executes their runs;
- with ``--postgres``, a PostgreSQL server holds both Prefect's and MLflow's data instead of
  SQLite (``operations/postgres.py``), and clients log to MLflow through its server.

With credentials in the environment both servers demand them: ``PREFECT_API_AUTH_STRING``
(``user:password``) makes the Prefect server run with ``PREFECT_SERVER_API_AUTH_STRING``, and
``MLFLOW_TRACKING_USERNAME`` / ``MLFLOW_TRACKING_PASSWORD`` make the MLflow server run its
``basic-auth`` app with that user as admin. Without them a request gets 401. The servers
bind to loopback unless ``--host`` says otherwise.
"""

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import SecretStr

from retrainer.boundaries.prefect_api import api_answers
from retrainer.boundaries.settings import (
    Home,
    environment_defaults,
    home_secret,
    mlflow_credentials,
    settings,
)
from retrainer.operations import postgres

PREFECT_SERVER = "prefect-server"
MLFLOW_SERVER = "mlflow-server"
DATA_DOCS_SERVER = "data-docs-server"
SERVE = "serve"
POSTGRES = "postgres"
# Stopped in this order: the executor first, so no run starts while its server goes away;
# the database last, once nothing writes to it.
SERVICES = (SERVE, PREFECT_SERVER, MLFLOW_SERVER, DATA_DOCS_SERVER, POSTGRES)
# The servers' own database URLs, passwords included: never in the flows' environment.
STORE_VARIABLES = ("PREFECT_SERVER_DATABASE_CONNECTION_URL", "MLFLOW_BACKEND_STORE_URI")


@dataclass
class StackOptions:
    """What ``up`` starts and where."""

    configs: list[Path]
    host: str = "127.0.0.1"
    prefect_port: int = 4200
    mlflow_port: int = 5000
    data_docs_port: int = 4300
    database_url: SecretStr | None = None
    postgres: bool = False
    postgres_port: int = 5432
    timeout_seconds: float = 180.0
    env: dict[str, str] = field(default_factory=dict)
    work_pool: str | None = None  # register the deployments there instead of serving them


@dataclass(frozen=True)
class StackUrls:
    """Where the running stack answers."""

    prefect_ui: str
    prefect_api: str
    mlflow_ui: str
    data_docs: str = ""


@dataclass(frozen=True)
class Server:
    """One server process: how to start it and how to tell it is ready."""

    name: str
    argv: list[str]
    port: int
    answers: Callable[[], bool]
    option: str  # the `retrainer up` option that picks its port


def _http_ok(url: str, auth: tuple[str, str] | None = None) -> bool:
    try:
        return httpx.get(url, timeout=1.0, auth=auth).status_code == 200
    except httpx.HTTPError:
        return False


def connect_host(host: str) -> str:
    """Where a client reaches a server bound to ``host``: a wildcard is reached on loopback."""
    return "127.0.0.1" if host in ("0.0.0.0", "::") else host


# Auth settings of the MLflow server; the admin's credentials travel in its environment.
MLFLOW_AUTH_INI = """[mlflow]
default_permission = NO_PERMISSIONS
database_uri = sqlite:///{database}
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
grant_default_workspace_access = false
# Without the cache every request pays a PBKDF2 check: 2-3 s each.
auth_cache_ttl_seconds = 60
"""


def stack_urls(options: StackOptions) -> StackUrls:
    """The URLs clients use: a wildcard bind address is reached on loopback."""
    connect = connect_host(options.host)
    return StackUrls(
        prefect_ui=f"http://{connect}:{options.prefect_port}",
        prefect_api=f"http://{connect}:{options.prefect_port}/api",
        mlflow_ui=f"http://{connect}:{options.mlflow_port}",
        data_docs=f"http://{connect}:{options.data_docs_port}",
    )


def servers(h: Home, options: StackOptions, urls: StackUrls) -> list[Server]:
    """The Prefect, MLflow and Data Docs servers, in start order."""
    python = sys.executable
    # With PostgreSQL the store URL (with its password) travels in the environment, never on
    # a command line that `ps` shows to every user.
    store = [] if options.postgres else ["--backend-store-uri", f"sqlite:///{h.mlflow_db}"]
    return [
        Server(
            name=PREFECT_SERVER,
            argv=[
                *(python, "-m", "prefect", "server", "start"),
                *("--host", options.host, "--port", str(options.prefect_port)),
            ],
            port=options.prefect_port,
            answers=lambda: api_answers(urls.prefect_api),
            option="--prefect-port",
        ),
        Server(
            name=MLFLOW_SERVER,
            argv=[
                *(python, "-m", "mlflow", "server", *store),
                # Runs logged straight to the database by the CLI and the flows carry
                # file:// artifact paths under this root; without serving artifacts the UI
                # reads those same paths, so both ways of logging show alike.
                *("--default-artifact-root", h.mlartifacts.as_uri(), "--no-serve-artifacts"),
                *("--host", options.host, "--port", str(options.mlflow_port), "--workers", "1"),
                *(("--app-name", "basic-auth") if mlflow_credentials() else ()),
            ],
            port=options.mlflow_port,
            answers=lambda: _http_ok(f"{urls.mlflow_ui}/health", mlflow_credentials()),
            option="--mlflow-port",
        ),
        Server(
            name=DATA_DOCS_SERVER,
            argv=[
                *(python, "-m", "retrainer.operations.docs_server"),
                *("--root", str(h.data_docs)),
                *("--host", options.host, "--port", str(options.data_docs_port)),
            ],
            port=options.data_docs_port,
            answers=lambda: _http_ok(f"{urls.data_docs}/_health"),
            option="--data-docs-port",
        ),
    ]


def postgres_server(h: Home, options: StackOptions, secret: SecretStr) -> Server:
    """The PostgreSQL server holding Prefect's and MLflow's databases."""
    host = connect_host(options.host)
    return Server(
        name=POSTGRES,
        argv=postgres.server_argv(h, host, options.postgres_port),
        port=options.postgres_port,
        answers=lambda: postgres.answers(host, options.postgres_port, secret),
        option="--postgres-port",
    )


def postgres_environment(options: StackOptions, secret: SecretStr, urls: StackUrls) -> dict:
    """The servers' store URLs in PostgreSQL, and the clients' way to MLflow (its server)."""
    host, port = connect_host(options.host), options.postgres_port
    return {
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": postgres.url(
            host, port, "prefect", secret, "asyncpg"
        ),
        "MLFLOW_BACKEND_STORE_URI": postgres.url(host, port, "mlflow", secret, "psycopg2"),
        "MLFLOW_TRACKING_URI": urls.mlflow_ui,
    }


def serve_argv(configs: list[Path]) -> list[str]:
    """``retrainer serve --config ...`` for these config files."""
    argv = [str(Path(sys.executable).with_name("retrainer")), "serve"]
    for config in configs:
        argv += ["--config", str(Path(config).resolve())]
    return argv


def worker_argv(pool: str, name: str | None = None, limit: int | None = None) -> list[str]:
    """``prefect worker start`` of process work pool ``pool`` (created if missing)."""
    argv = [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool]
    argv += ["--type", "process"]
    if name:
        argv += ["--name", name]
    if limit is not None:
        argv += ["--limit", str(limit)]
    return argv


def child_environment(h: Home, options: StackOptions, urls: StackUrls) -> dict[str, str]:
    """The environment of every server: the project's defaults, then the caller's variables."""
    env = {**environment_defaults(h), **os.environ, "RETRAINER_HOME": str(h.root)}
    env["PREFECT_UI_URL"] = urls.prefect_ui
    # `prefect server start --port` moves the server but not the API URL its UI calls (that
    # stays on the default port 4200): the UI would show another server's data, or none.
    env.setdefault("PREFECT_UI_API_URL", urls.prefect_api)
    # The runner asks for due runs every 10 s by default; 5 s halves the wait after an API
    # call for one cheap query more per 10 s.
    env.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", "5")
    # SQLite answers "database is locked" (the API's 503) after 10 s by default; a burst of
    # triggers beside a running retrain waits longer than that on a busy 2-core machine.
    env.setdefault("PREFECT_SERVER_DATABASE_TIMEOUT", "60")
    # A client's API URL from the caller's shell must not leak into the servers.
    env.pop("PREFECT_API_URL", None)
    database = options.database_url or settings().prefect_database_url
    if database:
        env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = database.get_secret_value()
    env.update(auth_environment(h))
    env.update(options.env)
    return env


def auth_environment(h: Home) -> dict[str, str]:
    """What the servers need to demand the credentials set in the environment (none: {})."""
    found, env = settings(), {}
    client = found.prefect_server_api_auth_string or found.prefect_api_auth_string
    if client is not None:
        env["PREFECT_SERVER_API_AUTH_STRING"] = client.get_secret_value()
    credentials = mlflow_credentials()
    if credentials is not None:
        ini = h.stack / "mlflow-auth.ini"
        ini.parent.mkdir(parents=True, exist_ok=True)
        ini.write_text(MLFLOW_AUTH_INI.format(database=h.root / "mlflow-auth.db"))
        secret = found.mlflow_flask_server_secret_key
        env |= {
            "MLFLOW_AUTH_CONFIG_PATH": str(ini),
            "MLFLOW_AUTH_ADMIN_USERNAME": credentials[0],
            "MLFLOW_AUTH_ADMIN_PASSWORD": credentials[1],
            "MLFLOW_FLASK_SERVER_SECRET_KEY": (
                secret.get_secret_value() if secret else home_secret(h, "mlflow-flask-secret-key")
            ),
        }
    return env
