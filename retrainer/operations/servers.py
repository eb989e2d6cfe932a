"""What the local stack runs: each server's command line, health URL and environment.

- ``prefect server start``: API and UI; SQLite under ``$RETRAINER_HOME/prefect`` unless a
  database URL is given;
- ``mlflow server`` over the same ``sqlite:///$RETRAINER_HOME/mlflow.db`` the CLI and the flows
  write to directly, with local artifact paths, so both see the same runs and models;
- ``retrainer serve``: registers the deployments in ``deployments/`` and executes their runs.

With credentials in the environment both servers demand them: ``PREFECT_API_AUTH_STRING``
(``user:password``) makes the Prefect server run with ``PREFECT_SERVER_API_AUTH_STRING``, and
``MLFLOW_TRACKING_USERNAME`` / ``MLFLOW_TRACKING_PASSWORD`` make the MLflow server run its
``basic-auth`` app with that user as admin. Without them a request gets 401. The servers
bind to loopback unless ``--host`` says otherwise.
"""

import os
import sys
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

PREFECT_SERVER = "prefect-server"
MLFLOW_SERVER = "mlflow-server"
SERVE = "serve"
# Stopped in this order: the executor first, so no run starts while its server goes away.
SERVICES = (SERVE, PREFECT_SERVER, MLFLOW_SERVER)


@dataclass
class StackOptions:
    """What ``up`` starts and where."""

    configs: list[Path]
    host: str = "127.0.0.1"
    prefect_port: int = 4200
    mlflow_port: int = 5000
    database_url: SecretStr | None = None
    timeout_seconds: float = 180.0
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StackUrls:
    """Where the running stack answers."""

    prefect_ui: str
    prefect_api: str
    mlflow_ui: str


@dataclass(frozen=True)
class Server:
    """One server process: how to start it and how to tell it is ready."""

    name: str
    argv: list[str]
    port: int
    health: str

    def answers(self) -> bool:
        """True when its health URL answers 200."""
        if self.name == PREFECT_SERVER:
            return api_answers(self.health.removesuffix("/health"))
        try:
            return httpx.get(self.health, timeout=1.0, auth=mlflow_credentials()).status_code == 200
        except httpx.HTTPError:
            return False


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
    connect = "127.0.0.1" if options.host in ("0.0.0.0", "::") else options.host
    return StackUrls(
        prefect_ui=f"http://{connect}:{options.prefect_port}",
        prefect_api=f"http://{connect}:{options.prefect_port}/api",
        mlflow_ui=f"http://{connect}:{options.mlflow_port}",
    )


def servers(h: Home, options: StackOptions, urls: StackUrls) -> list[Server]:
    """The Prefect and MLflow servers, in start order."""
    python = sys.executable
    return [
        Server(
            name=PREFECT_SERVER,
            argv=[
                *(python, "-m", "prefect", "server", "start"),
                *("--host", options.host, "--port", str(options.prefect_port)),
            ],
            port=options.prefect_port,
            health=f"{urls.prefect_api}/health",
        ),
        Server(
            name=MLFLOW_SERVER,
            argv=[
                *(python, "-m", "mlflow", "server"),
                *("--backend-store-uri", f"sqlite:///{h.mlflow_db}"),
                # Runs logged straight to the database by the CLI and the flows carry
                # file:// artifact paths under this root; without serving artifacts the UI
                # reads those same paths, so both ways of logging show alike.
                *("--default-artifact-root", h.mlartifacts.as_uri(), "--no-serve-artifacts"),
                *("--host", options.host, "--port", str(options.mlflow_port), "--workers", "1"),
                *(("--app-name", "basic-auth") if mlflow_credentials() else ()),
            ],
            port=options.mlflow_port,
            health=f"{urls.mlflow_ui}/health",
        ),
    ]


def serve_argv(configs: list[Path]) -> list[str]:
    """``retrainer serve --config ...`` for these config files."""
    argv = [str(Path(sys.executable).with_name("retrainer")), "serve"]
    for config in configs:
        argv += ["--config", str(Path(config).resolve())]
    return argv


def child_environment(h: Home, options: StackOptions, urls: StackUrls) -> dict[str, str]:
    """The environment of every server: the project's defaults, then the caller's variables."""
    env = {**environment_defaults(h), **os.environ, "RETRAINER_HOME": str(h.root)}
    env["PREFECT_UI_URL"] = urls.prefect_ui
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
