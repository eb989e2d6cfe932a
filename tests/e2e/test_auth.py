"""With credentials in the environment, both servers `make up` starts demand them: a request
without them gets 401, the CLI and the clients send them from the environment."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from retrainer.boundaries.health import ServiceUnavailableError, check_tracking_server
from retrainer.boundaries.settings import Home
from retrainer.operations import processes
from retrainer.operations.servers import (
    StackOptions,
    StackUrls,
    child_environment,
    servers,
    stack_urls,
)

pytestmark = pytest.mark.e2e
PREFECT_AUTH = "ops:prefect-secret"
MLFLOW_USER, MLFLOW_PASSWORD = "ops", "mlflow-secret"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Home, StackUrls]]:
    """The Prefect and MLflow servers of `make up`, started with credentials set."""
    h = Home(tmp_path_factory.mktemp("auth") / "home")
    options = StackOptions(
        configs=[],
        prefect_port=processes.free_port(),
        mlflow_port=processes.free_port(),
        env={"PREFECT_HOME": str(h.prefect)},
    )
    urls = stack_urls(options)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PREFECT_API_AUTH_STRING", PREFECT_AUTH)
        env.setenv("MLFLOW_TRACKING_USERNAME", MLFLOW_USER)
        env.setenv("MLFLOW_TRACKING_PASSWORD", MLFLOW_PASSWORD)
        specs = servers(h, options, urls)
        child = child_environment(h, options, urls)
        try:
            for server in specs:
                processes.spawn(h, server.name, server.argv, child)
            for server in specs:
                processes.wait_ready(h, server.name, server.answers, 180)
            yield h, urls
        finally:
            for server in specs:
                processes.stop(h, server.name)


def test_the_prefect_api_answers_401_without_the_auth_string(guarded):
    _, urls = guarded
    body = {"limit": 1}
    assert httpx.post(f"{urls.prefect_api}/flows/filter", json=body).status_code == 401
    wrong = httpx.post(f"{urls.prefect_api}/flows/filter", json=body, auth=("ops", "guess"))
    assert wrong.status_code == 401
    user, password = PREFECT_AUTH.split(":")
    right = httpx.post(f"{urls.prefect_api}/flows/filter", json=body, auth=(user, password))
    assert right.status_code == 200


def test_the_mlflow_api_answers_401_without_credentials(guarded, monkeypatch):
    _, urls = guarded
    search = f"{urls.mlflow_ui}/api/2.0/mlflow/experiments/search?max_results=1"
    with httpx.Client(timeout=60) as http:  # a password check is a deliberately slow hash
        assert http.get(search).status_code == 401
        assert http.get(search, auth=(MLFLOW_USER, "guess")).status_code == 401
        assert http.get(search, auth=(MLFLOW_USER, MLFLOW_PASSWORD)).status_code == 200
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", MLFLOW_USER)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", MLFLOW_PASSWORD)
    check_tracking_server(urls.mlflow_ui)  # the preflight sends them from the environment
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD")
    with pytest.raises(ServiceUnavailableError, match="refused our credentials"):
        check_tracking_server(urls.mlflow_ui, attempts=1)


def land(h: Home, urls: StackUrls, auth: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_"))}
    env |= {"RETRAINER_HOME": str(h.root), "PREFECT_API_URL": urls.prefect_api}
    if auth:
        env["PREFECT_API_AUTH_STRING"] = auth
    retrainer = str(Path(sys.executable).with_name("retrainer"))
    argv = [retrainer, "land", "--month", "1", "--every", "200"]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)


def test_the_cli_sends_the_prefect_credentials_from_the_environment(guarded):
    h, urls = guarded
    assert "sent 1 `retrainer.data.landed` event" in land(h, urls, PREFECT_AUTH).stdout
    refused = land(h, urls, None)
    assert "refused our credentials" in refused.stderr and "sent" not in refused.stdout
