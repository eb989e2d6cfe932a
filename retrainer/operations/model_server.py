"""Online predictions: MLflow's model server on the champion, restarted when the alias moves.

``mlflow models serve --env-manager local`` (no environment to build, no network) loads one
model when it starts and keeps it. This supervisor resolves ``champion`` to a version, serves
``models:/<name>/<version>``, checks the alias every ``poll_seconds`` and, when it moved,
replaces the server with one on the new version (requests fail for the few seconds the new
one takes to load). The server runs in a process group of its own, logging to
``$RETRAINER_HOME/logs/model-server.log``.
"""

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from retrainer.boundaries import tracking
from retrainer.boundaries.settings import Home, environment_defaults
from retrainer.operations import processes

MODEL_SERVER = "model-server"


class ModelServerError(RuntimeError):
    """No champion to serve, or the model server did not start."""


def model_server_argv(model_uri: str, host: str, port: int) -> list[str]:
    """``mlflow models serve`` for one model version, in this environment."""
    return [
        *(sys.executable, "-m", "mlflow", "models", "serve", "-m", model_uri),
        *("--env-manager", "local", "--host", host, "--port", str(port), "--workers", "1"),
    ]


def answers(url: str) -> bool:
    """True when the model server at ``url`` answers its health check."""
    try:
        return httpx.get(f"{url}/ping", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _start(h: Home, model: str, version: str, host: str, port: int, timeout: float) -> None:
    env = {**environment_defaults(h), **os.environ}
    env.setdefault("MLFLOW_TRACKING_URI", h.mlflow_uri)
    # MLflow runs `uvicorn` by name: this environment's bin must come first on PATH.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    processes.spawn(
        h, MODEL_SERVER, model_server_argv(f"models:/{model}/{version}", host, port), env
    )
    try:
        processes.wait_ready(h, MODEL_SERVER, lambda: answers(f"http://{host}:{port}"), timeout)
    except processes.StackError as exc:
        processes.stop(h, MODEL_SERVER)
        raise ModelServerError(str(exc)) from exc


def serve_champion(
    h: Home,
    model: str,
    host: str,
    port: int,
    poll_seconds: float,
    echo: Callable[[str], None],
    timeout: float = 120.0,
) -> None:
    """Serve ``model``'s champion on ``host:port`` until interrupted; follow the alias."""
    if not processes.port_is_free(host, port):
        raise ModelServerError(f"port {port} on {host} is taken: pick another with --port")
    tracking.connect(h.mlflow_uri)
    # `kill` (SIGTERM) stops the server too, like Ctrl-C: the `finally` below runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    served = None
    try:
        while True:
            champion = tracking.alias_version(model, tracking.CHAMPION)
            if champion is None and served is None:
                raise ModelServerError(
                    f"{model} has no '{tracking.CHAMPION}' in {h.mlflow_uri}: train one first "
                    "(`retrainer run`)"
                )
            if champion is not None and champion != served:
                if served is not None:
                    echo(f"champion moved v{served} -> v{champion}: restarting the model server")
                    processes.stop(h, MODEL_SERVER)
                _start(h, model, champion, host, port, timeout)
                served = champion
                echo(f"serving {model} v{champion} at http://{host}:{port}/invocations")
            time.sleep(poll_seconds)
    finally:
        processes.stop(h, MODEL_SERVER)
