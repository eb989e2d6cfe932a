"""Everything read from the environment, and where all local state lives.

One pydantic-settings model, ``Settings``, reads the variables this project honours
(``RETRAINER_HOME``, server URLs, credentials, the work pool). Secrets are ``SecretStr``: they
print as ``**********`` in a repr, a log line or an error, and only the code that connects
calls ``get_secret_value()``. Nothing secret is ever part of a config file or a flow parameter.

``RETRAINER_HOME`` (default ``./.retrainer``) holds all local state; deleting it resets the
project. Every path the pipeline writes is derived from ``Home``, so no module invents its
own location.
"""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PREFECT_API_URL_FILE = "prefect_api_url"
MLFLOW_UI_URL_FILE = "mlflow_ui_url"
# Written by `make up` when clients must log through the MLflow server (a PostgreSQL backend).
MLFLOW_TRACKING_URI_FILE = "mlflow_tracking_uri"
DATA_DOCS_URL_FILE = "data_docs_url"


class Settings(BaseSettings):
    """The environment variables this project reads, typed; secrets stay ``SecretStr``."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    home: Path = Field(default=Path(".retrainer"), validation_alias="RETRAINER_HOME")
    expectations: Path = Field(
        default=PROJECT_ROOT / "expectations", validation_alias="RETRAINER_EXPECTATIONS"
    )
    prefect_api_url: str | None = Field(default=None, validation_alias="PREFECT_API_URL")
    prefect_api_auth_string: SecretStr | None = Field(
        default=None, validation_alias="PREFECT_API_AUTH_STRING"
    )
    prefect_database_url: SecretStr | None = Field(
        default=None, validation_alias="RETRAINER_PREFECT_DATABASE_URL"
    )
    mlflow_tracking_uri: str | None = Field(default=None, validation_alias="MLFLOW_TRACKING_URI")
    postgres_password: SecretStr | None = Field(
        default=None, validation_alias="RETRAINER_POSTGRES_PASSWORD"
    )
    # With these set, `make up` starts both servers with basic auth, and every client (CLI,
    # flows, MLflow's own client) sends them.
    mlflow_tracking_username: str | None = Field(
        default=None, validation_alias="MLFLOW_TRACKING_USERNAME"
    )
    mlflow_tracking_password: SecretStr | None = Field(
        default=None, validation_alias="MLFLOW_TRACKING_PASSWORD"
    )
    prefect_server_api_auth_string: SecretStr | None = Field(
        default=None, validation_alias="PREFECT_SERVER_API_AUTH_STRING"
    )
    mlflow_flask_server_secret_key: SecretStr | None = Field(
        default=None, validation_alias="MLFLOW_FLASK_SERVER_SECRET_KEY"
    )
    # The key of the pseudonyms of personal columns; without it a key is generated once per
    # home in $RETRAINER_HOME/secrets/pseudonym.key.
    pseudonym_key: SecretStr | None = Field(
        default=None, validation_alias="RETRAINER_PSEUDONYM_KEY"
    )
    # Set, `make up` registers the deployments on this Prefect process work pool instead of
    # executing them itself; `retrainer worker` on each machine executes their runs.
    work_pool: str | None = Field(default=None, validation_alias="RETRAINER_WORK_POOL")

    # Where the training stage's fold fits run (README, Parallel training): joblib threads
    # in the flow's process, Prefect's Dask task runner, or one after another.
    parallel: Literal["joblib", "dask", "sequential"] = Field(
        default="joblib", validation_alias="RETRAINER_PARALLEL"
    )
    # A running Dask scheduler (tcp://host:8786) for `dask`; without it a LocalCluster of this
    # machine's cores is started for the stage. Set alone, it also selects `dask`.
    dask_address: str | None = Field(default=None, validation_alias="RETRAINER_DASK_ADDRESS")

    @model_validator(mode="after")
    def _address_means_dask(self) -> Self:
        if self.dask_address and "parallel" not in self.model_fields_set:
            self.parallel = "dask"
        return self


class MissingSecretError(RuntimeError):
    """A config names an environment variable for a secret, and it is not set."""


def secret(variable: str) -> SecretStr:
    """The secret a config refers to by name (e.g. a source's ``password_env``), read now."""
    value = os.environ.get(variable)
    if value is None:
        raise MissingSecretError(
            f"environment variable {variable} is not set (a config names it for a secret)"
        )
    return SecretStr(value)


def settings() -> Settings:
    """The settings as the environment says now (read afresh: tests and the CLI change it)."""
    return Settings()


def mlflow_credentials() -> tuple[str, str] | None:
    """MLFLOW_TRACKING_USERNAME and _PASSWORD, when both are set."""
    found = settings()
    if found.mlflow_tracking_username and found.mlflow_tracking_password:
        return found.mlflow_tracking_username, found.mlflow_tracking_password.get_secret_value()
    return None


@dataclass(frozen=True)
class Home:
    """Paths of the local state under one root directory."""

    root: Path

    @property
    def landing(self) -> Path:
        """Where sources deliver data (files, feed batches, the SQL database)."""
        return self.root / "landing"

    @property
    def lake(self) -> Path:
        """The data lake with its zones raw/, validated/, quarantine/."""
        return self.root / "lake"

    @property
    def mlflow_db(self) -> Path:
        """The MLflow tracking database (SQLite)."""
        return self.root / "mlflow.db"

    @property
    def mlartifacts(self) -> Path:
        """Where MLflow stores run and model artifacts."""
        return self.root / "mlartifacts"

    @property
    def prefect(self) -> Path:
        """PREFECT_HOME: Prefect's own database, profiles and results."""
        return self.root / "prefect"

    @property
    def postgres(self) -> Path:
        """The PostgreSQL cluster of ``make up-postgres`` (data, generated password)."""
        return self.root / "postgres"

    @property
    def gx(self) -> Path:
        """The Great Expectations file context, including Data Docs."""
        return self.root / "gx"

    @property
    def logs(self) -> Path:
        """Logs of the servers started by ``make up``."""
        return self.root / "logs"

    @property
    def stack(self) -> Path:
        """State of the servers started by ``make up`` (pids, URLs)."""
        return self.root / "stack"

    @property
    def cache(self) -> Path:
        """Results of stages reused across runs while their inputs are unchanged."""
        return self.root / "cache"

    @property
    def derived_reports(self) -> list[Path]:
        """What the next run rebuilds and may quote data values: GX results, Data Docs, cache."""
        uncommitted = self.gx / "uncommitted"
        return [uncommitted / "validations", uncommitted / "data_docs", self.cache]

    @property
    def locks(self) -> Path:
        """Lock files that hold across processes (setup of shared state)."""
        return self.root / "locks"

    @property
    def secrets(self) -> Path:
        """Keys generated for this home (readable by its owner only)."""
        return self.root / "secrets"

    @property
    def mlflow_uri(self) -> str:
        """The tracking URI in force: MLFLOW_TRACKING_URI wins over the local database."""
        return settings().mlflow_tracking_uri or f"sqlite:///{self.mlflow_db}"

    @property
    def data_docs(self) -> Path:
        """The Great Expectations Data Docs site (what ``make up``'s docs server serves)."""
        return data_docs_site(self.gx)

    def stack_url(self, name: str) -> str | None:
        """A URL written by ``make up`` (``prefect_api_url``, ``mlflow_ui_url``), or None."""
        path = self.stack / name
        return path.read_text().strip() if path.exists() else None


def data_docs_site(gx_root: Path) -> Path:
    """Where a Great Expectations file context at ``gx_root`` writes its Data Docs site."""
    return gx_root / "uncommitted" / "data_docs" / "local_site"


def home_secret(h: Home, name: str) -> str:
    """A random secret generated once for this home (``secrets/<name>``, mode 0600).

    Two processes asking at once get the same one: the first to link its file wins.
    """
    import secrets

    path = h.secrets / name
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, secrets.token_hex(32).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # atomic, and fails when another process linked one first
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def home() -> Home:
    """Return the ``Home`` named by ``RETRAINER_HOME`` (default ``./.retrainer``), absolute."""
    return Home(settings().home.resolve())


def expectations_dir() -> Path:
    """The folder of expectation suites (RETRAINER_EXPECTATIONS overrides it)."""
    return settings().expectations


def config_path(name: str = "flights") -> Path:
    """A bundled config file by data set name."""
    return PROJECT_ROOT / "configs" / f"{name}.yaml"


def bundled_configs() -> list[Path]:
    """Every config file under ``configs/``."""
    return sorted((PROJECT_ROOT / "configs").glob("*.yaml"))


def environment_defaults(h: Home) -> dict[str, str]:
    """The variables every process of this project runs with, unless the user set them.

    The single source of truth for the CLI, the flows and the servers ``make up`` starts.
    """
    return {
        "RETRAINER_HOME": str(h.root),
        "PREFECT_HOME": str(h.prefect),
        "MLFLOW_TRACKING_URI": f"sqlite:///{h.mlflow_db}",
        # Offline machines: telemetry only produces errors and delays (the Prefect server
        # logs an error on every start when it cannot send it).
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        # Reading a champion's config.json would draw a download progress bar in the CLI.
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
        "DO_NOT_TRACK": "true",
        "GX_ANALYTICS_ENABLED": "false",
        # The ephemeral server takes 15-44 s to start on 2 cores, above its 20 s default.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PREFECT_LOGGING_LEVEL": "INFO",
        # Results of cached stages (the training table): here, so an erasure can drop them.
        "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(h.cache),
        "GIT_PYTHON_REFRESH": "quiet",
        # MLflow retries a failing request 7 times with a factor-2 backoff and a 120 s
        # timeout each: minutes before a dead server is reported. Four retries over about
        # 15 s ride out a restart; a server that is down is found before the run starts.
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "4",
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
    }


def configure_environment() -> Home:
    """Point Prefect, MLflow and friends at RETRAINER_HOME before any of them is imported.

    Variables the user already set win; this only fills in defaults. It must run before
    ``import prefect`` because Prefect reads PREFECT_HOME when its settings load. When
    ``make up`` is running, runs go to its Prefect server so they show in the UI.
    """
    from retrainer.boundaries.prefect_api import api_answers

    h = home()
    h.root.mkdir(parents=True, exist_ok=True)
    tracking = h.stack_url(MLFLOW_TRACKING_URI_FILE)
    if tracking and "MLFLOW_TRACKING_URI" not in os.environ:
        # `make up-postgres`: the runs live in PostgreSQL, reached through the MLflow server.
        os.environ["MLFLOW_TRACKING_URI"] = tracking
    for key, value in environment_defaults(h).items():
        os.environ.setdefault(key, value)
    url = h.stack_url(PREFECT_API_URL_FILE)
    if "PREFECT_API_URL" not in os.environ and url and api_answers(url):
        os.environ["PREFECT_API_URL"] = url
    return h
