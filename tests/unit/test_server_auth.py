"""What `make up` starts when credentials are set: both servers demanding them."""

from pathlib import Path

from retrainer.boundaries.settings import Home
from retrainer.operations.servers import (
    MLFLOW_SERVER,
    PREFECT_SERVER,
    StackOptions,
    child_environment,
    servers,
    stack_urls,
)


def started(tmp_path: Path) -> tuple[dict[str, list[str]], dict[str, str], Home]:
    h = Home(tmp_path / "home")
    options = StackOptions(configs=[])
    urls = stack_urls(options)
    argv = {s.name: s.argv for s in servers(h, options, urls)}
    return argv, child_environment(h, options, urls), h


def test_without_credentials_the_servers_start_open_on_loopback(tmp_path, monkeypatch):
    for name in ("PREFECT_API_AUTH_STRING", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    argv, env, _ = started(tmp_path)
    assert "basic-auth" not in argv[MLFLOW_SERVER]
    assert "PREFECT_SERVER_API_AUTH_STRING" not in env
    assert argv[PREFECT_SERVER][argv[PREFECT_SERVER].index("--host") + 1] == "127.0.0.1"


def test_with_credentials_both_servers_demand_them(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", "ops:p1")
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "ops")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "p2")
    argv, env, h = started(tmp_path)

    assert argv[MLFLOW_SERVER][-2:] == ["--app-name", "basic-auth"]
    assert env["PREFECT_SERVER_API_AUTH_STRING"] == "ops:p1"
    assert (env["MLFLOW_AUTH_ADMIN_USERNAME"], env["MLFLOW_AUTH_ADMIN_PASSWORD"]) == ("ops", "p2")
    ini = Path(env["MLFLOW_AUTH_CONFIG_PATH"]).read_text()
    assert "auth_cache_ttl_seconds = 60" in ini and "p2" not in ini  # no password on disk
    key = h.secrets / "mlflow-flask-secret-key"
    assert env["MLFLOW_FLASK_SERVER_SECRET_KEY"] == key.read_text()
    assert key.stat().st_mode & 0o777 == 0o600
    assert started(tmp_path)[1]["MLFLOW_FLASK_SERVER_SECRET_KEY"] == key.read_text()  # stable
