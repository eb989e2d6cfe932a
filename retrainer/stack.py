"""The local stack behind ``make up`` / ``make down``: Prefect server, MLflow server, serve.

Three long-running processes, each started in its own session so that ``down`` can stop it
together with everything it spawned (the serve process runs every flow run as a child):

- ``prefect server start``: API and UI; SQLite under ``$RETRAINER_HOME/prefect`` unless a
  database URL is given;
- ``mlflow server`` over the same ``sqlite:///$RETRAINER_HOME/mlflow.db`` the CLI and the flows
  write to directly, with local artifact paths, so both see the same runs and models;
- ``retrainer serve``: registers the deployments in ``deployments/`` and executes their runs.

State lives in ``$RETRAINER_HOME/stack`` (``<name>.pid``, ``prefect_api_url``,
``mlflow_ui_url``), logs in ``$RETRAINER_HOME/logs``. Only the standard library is used here,
so ``up`` and ``down`` do not pay for importing Prefect or MLflow.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from retrainer.home import Home
from retrainer.http import answers, request

PREFECT_SERVER = "prefect-server"
MLFLOW_SERVER = "mlflow-server"
SERVE = "serve"
# Stopped in this order: the executor first, so no run starts while its server goes away.
SERVICES = (SERVE, PREFECT_SERVER, MLFLOW_SERVER)

PREFECT_API_URL_FILE = "prefect_api_url"
MLFLOW_UI_URL_FILE = "mlflow_ui_url"
# Put into every child's environment: `down` only signals a pid whose environment carries it,
# so a pid file left over from a reboot can never make it kill an unrelated process.
MARKER = "RETRAINER_STACK_PROCESS"

IN_FLIGHT = ["PENDING", "RUNNING", "CANCELLING", "PAUSED"]
SCHEDULE_WAIT_SECONDS = 30.0


class StackError(RuntimeError):
    """A server did not start, did not answer in time, or a port is taken."""


@dataclass
class StackOptions:
    """What ``up`` starts and where."""

    configs: list[Path]
    host: str = "127.0.0.1"
    prefect_port: int = 4200
    mlflow_port: int = 5000
    database_url: str | None = None
    timeout_seconds: float = 180.0
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Server:
    argv: list[str]
    health: str
    port: int


@dataclass(frozen=True)
class StackUrls:
    """Where the running stack answers."""

    prefect_ui: str
    prefect_api: str
    mlflow_ui: str


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def read_url(h: Home, name: str) -> str | None:
    """A URL written by ``up`` (``prefect_api_url``, ``mlflow_ui_url``), or None when down."""
    path = h.stack / name
    return path.read_text().strip() if path.exists() else None


def up(h: Home, options: StackOptions, echo: Callable[[str], None] = print) -> StackUrls:
    """Start whatever part of the stack is not running, wait until it answers; return URLs."""
    h.stack.mkdir(parents=True, exist_ok=True)
    h.logs.mkdir(parents=True, exist_ok=True)
    host = options.host
    connect = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    urls = StackUrls(
        prefect_ui=f"http://{connect}:{options.prefect_port}",
        prefect_api=f"http://{connect}:{options.prefect_port}/api",
        mlflow_ui=f"http://{connect}:{options.mlflow_port}",
    )
    env = _child_env(h, options, urls)
    servers = {
        PREFECT_SERVER: _Server(
            argv=[
                *(sys.executable, "-m", "prefect", "server", "start"),
                *("--host", host, "--port", str(options.prefect_port)),
            ],
            health=f"{urls.prefect_api}/health",
            port=options.prefect_port,
        ),
        MLFLOW_SERVER: _Server(
            argv=[
                *(sys.executable, "-m", "mlflow", "server"),
                *("--backend-store-uri", f"sqlite:///{h.mlflow_db}"),
                # Runs logged straight to the database by the CLI and the flows carry
                # file:// artifact paths under this root; without serving artifacts the UI
                # reads those same paths, so both ways of logging show alike.
                *("--default-artifact-root", h.mlartifacts.as_uri(), "--no-serve-artifacts"),
                *("--host", host, "--port", str(options.mlflow_port), "--workers", "1"),
            ],
            health=f"{urls.mlflow_ui}/health",
            port=options.mlflow_port,
        ),
    }
    started_at = datetime.now(UTC)
    # Both servers start at once: their cold starts (10-20 s each) overlap.
    for name, server in servers.items():
        if _alive(h, name):
            echo(f"{name} already running (pid {_pid(h, name)})")
            continue
        if not port_is_free(host, server.port):
            raise StackError(
                f"port {server.port} on {host} is taken: stop that process or pick another port"
            )
        _spawn(h, name, server.argv, env)
    for name, server in servers.items():
        _wait(h, name, lambda url=server.health: answers(url), options.timeout_seconds)
    (h.stack / PREFECT_API_URL_FILE).write_text(urls.prefect_api + "\n")
    (h.stack / MLFLOW_UI_URL_FILE).write_text(urls.mlflow_ui + "\n")

    names = {_deployment_name(config) for config in options.configs}
    if _alive(h, SERVE):
        echo(f"{SERVE} already running (pid {_pid(h, SERVE)})")
    else:
        argv = [str(Path(sys.executable).with_name("retrainer")), "serve"]
        for config in options.configs:
            argv += ["--config", str(Path(config).resolve())]
        _spawn(h, SERVE, argv, env | {"PREFECT_API_URL": urls.prefect_api})
        _wait(
            h,
            SERVE,
            lambda: _serving(urls.prefect_api, names, started_at),
            options.timeout_seconds,
        )
    # Registering a deployment again deletes its future runs; the server's scheduler makes
    # them again within seconds. Waiting for that lets `up` show the next run, and catches
    # a scheduler that never makes any (Prefect with SQLAlchemy 2.1 fails this silently).
    for deployment in _unscheduled(urls.prefect_api, started_at, SCHEDULE_WAIT_SECONDS):
        echo(
            f"warning: {deployment} has an active schedule but the Prefect server made no "
            f"scheduled runs for it within {SCHEDULE_WAIT_SECONDS:.0f} s; see "
            f"{h.logs / 'prefect-server.log'} (SQLAlchemy 2.1 breaks Prefect's scheduler)"
        )
    return urls


def down(h: Home, echo: Callable[[str], None] = print) -> list[str]:
    """Stop every process ``up`` started (serve first); return the names that were running."""
    api = read_url(h, PREFECT_API_URL_FILE)
    stopped = []
    for name in SERVICES:
        pid = _pid(h, name)
        if pid is not None and _alive(h, name):
            _stop_group(pid)
            stopped.append(name)
            echo(f"stopped {name} (pid {pid})")
            if name == SERVE and api:
                _mark_crashed(api, _in_flight_runs(api), echo)
        (h.stack / f"{name}.pid").unlink(missing_ok=True)
    for url_file in (PREFECT_API_URL_FILE, MLFLOW_UI_URL_FILE):
        (h.stack / url_file).unlink(missing_ok=True)
    return stopped


def running(h: Home) -> dict[str, int]:
    """The stack's processes that are alive, by name, with their pids."""
    return {name: pid for name in SERVICES if (pid := _pid(h, name)) and _alive(h, name)}


def next_scheduled(api: str, flow: str, deployment: str) -> str | None:
    """When the next scheduled run of ``flow/deployment`` is due (ISO time), or None."""
    return _next_run(api, _get_json(f"{api}/deployments/name/{flow}/{deployment}")["id"])


def _next_run(api: str, deployment_id: str) -> str | None:
    runs = _post_json(
        f"{api}/flow_runs/filter",
        {
            "deployments": {"id": {"any_": [deployment_id]}},
            "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
            "sort": "EXPECTED_START_TIME_ASC",
            "limit": 1,
        },
    )
    return runs[0]["expected_start_time"] if runs else None


def _deployment_name(config: Path) -> str:
    # The deployment is named after the config's `name`; reading YAML here keeps `up` light.
    from retrainer.config import load_config

    return load_config(config).name


def _child_env(h: Home, options: StackOptions, urls: StackUrls) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "RETRAINER_HOME": str(h.root),
            "PREFECT_HOME": env.get("PREFECT_HOME", str(h.prefect)),
            "MLFLOW_TRACKING_URI": env.get("MLFLOW_TRACKING_URI", f"sqlite:///{h.mlflow_db}"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "true",
            "PREFECT_UI_URL": urls.prefect_ui,
            # The runner asks for due runs every 10 s by default; 5 s halves the wait after
            # an API call for one cheap query more per 10 s.
            "PREFECT_RUNNER_POLL_FREQUENCY": env.get("PREFECT_RUNNER_POLL_FREQUENCY", "5"),
        }
    )
    # A client's API URL from the caller's shell must not leak into the servers.
    env.pop("PREFECT_API_URL", None)
    if options.database_url:
        env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = options.database_url
    env.update(options.env)
    return env


def _spawn(h: Home, name: str, argv: list[str], env: dict[str, str]) -> None:
    log = h.logs / f"{name}.log"
    with open(log, "ab") as out:
        out.write(f"\n--- {datetime.now(UTC).isoformat()} {' '.join(argv)}\n".encode())
        out.flush()
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env | {MARKER: f"{h.root}:{name}"},
            cwd=Path(__file__).resolve().parents[1],
            start_new_session=True,
        )
    (h.stack / f"{name}.pid").write_text(f"{process.pid}\n")


def _wait(h: Home, name: str, ready: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if not _alive(h, name):
            raise StackError(f"{name} exited while starting:\n{_tail(h.logs / f'{name}.log')}")
        time.sleep(0.5)
    raise StackError(
        f"{name} did not answer within {timeout:.0f} s:\n{_tail(h.logs / f'{name}.log')}"
    )


def _serving(api: str, names: set[str], since: datetime) -> bool:
    """True once serve has registered each data set's deployments and polled them for runs."""
    try:
        polled = {d["name"] for d in _served_deployments(api) if _polled_since(d, since)}
    except (OSError, ValueError):
        return False
    return names <= polled


def _polled_since(deployment: dict[str, Any], since: datetime) -> bool:
    # Deployments from an earlier `up` (or an old config) exist already: only those the new
    # serve process polls count.
    last = deployment.get("last_polled")
    return bool(last) and datetime.fromisoformat(last) >= since


def _unscheduled(api: str, since: datetime, timeout: float) -> list[str]:
    """Served deployments with an active schedule but no scheduled run after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        flows = {f["id"]: f["name"] for f in _post_json(f"{api}/flows/filter", {})}
        missing = [
            f"{flows.get(d['flow_id'])}/{d['name']}"
            for d in _served_deployments(api)
            if _polled_since(d, since)
            and any(schedule["active"] for schedule in d.get("schedules", []))
            and not _next_run(api, d["id"])
        ]
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(0.5)


def _in_flight_runs(api: str) -> list[dict[str, Any]]:
    """Runs of served deployments (and their subflows) that stopping serve will cut short."""
    try:
        runs = _post_json(
            f"{api}/flow_runs/filter",
            {
                "flow_runs": {"state": {"type": {"any_": IN_FLIGHT}}},
                "deployments": {"id": {"any_": [d["id"] for d in _served_deployments(api)]}},
            },
        )
        if runs:
            runs += _post_json(
                f"{api}/flow_runs/filter",
                {
                    "flow_runs": {
                        "state": {"type": {"any_": IN_FLIGHT}},
                        "parent_flow_run_id": {"any_": [r["id"] for r in runs]},
                    }
                },
            )
        return runs
    except (OSError, ValueError):
        return []


def _served_deployments(api: str) -> list[dict[str, Any]]:
    # Deployments with no work pool are served ones; in this project that is all of them.
    return [d for d in _post_json(f"{api}/deployments/filter", {}) if not d.get("work_pool_name")]


def _mark_crashed(api: str, runs: list[dict[str, Any]], echo: Callable[[str], None]) -> None:
    # Prefect leaves runs whose process was killed in Running for ever, and a Running retrain
    # keeps the deployment's concurrency slot: every later retrain would wait behind it.
    for run in runs:
        state = {
            "type": "CRASHED",
            "name": "Crashed",
            "message": "the serve process was stopped by `retrainer down` during this run",
        }
        try:
            _post_json(f"{api}/flow_runs/{run['id']}/set_state", {"state": state, "force": True})
            echo(f"marked run {run['name']} crashed (it was {run['state']['name']})")
        except (OSError, ValueError) as exc:
            echo(f"could not mark run {run['name']} crashed: {exc}")


def _pid(h: Home, name: str) -> int | None:
    try:
        return int((h.stack / f"{name}.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(h: Home, name: str) -> bool:
    pid = _pid(h, name)
    if pid is None:
        return False
    _reap(pid)
    proc = Path(f"/proc/{pid}")
    if not proc.exists():
        return _signalable(pid)
    try:
        if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
        environ = (proc / "environ").read_bytes().split(b"\0")
    except OSError:
        return False
    return f"{MARKER}={h.root}:{name}".encode() in environ


def _signalable(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reap(pid: int) -> None:
    # When `up` ran in this very process (tests), a stopped child stays a zombie until reaped.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def group_alive(pgid: int) -> bool:
    """True while any process of group ``pgid`` is alive (zombies do not count)."""
    _reap(pgid)
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not Path("/proc").exists():
        return True
    # killpg also succeeds while only zombies are left, which their new parent reaps later.
    return any(_live_member(stat, pgid) for stat in Path("/proc").glob("[0-9]*/stat"))


def _live_member(stat: Path, pgid: int) -> bool:
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    # After the command name: state, ppid, pgrp (proc(5)).
    return fields[2] == str(pgid) and fields[0] != "Z"


def _stop_group(pgid: int, grace_seconds: float = 20.0) -> None:
    for sig, wait in ((signal.SIGTERM, grace_seconds), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not group_alive(pgid):
                return
            time.sleep(0.2)
    raise StackError(f"process group {pgid} survived SIGKILL")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(request(url), timeout=10) as response:
        return json.load(response)


def _post_json(url: str, body: dict) -> Any:
    with urllib.request.urlopen(request(url, body), timeout=10) as response:
        raw = response.read()
    return json.loads(raw) if raw else None
