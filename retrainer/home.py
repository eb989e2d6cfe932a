"""Where all local state lives: one directory, ``RETRAINER_HOME`` (default ``./.retrainer``).

Deleting that directory resets the project. Every path the pipeline writes is derived
here, so no module invents its own location.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from retrainer.http import answers


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
    def mlflow_uri(self) -> str:
        """The tracking URI in force: MLFLOW_TRACKING_URI wins over the local database."""
        return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{self.mlflow_db}"


def home() -> Home:
    """Return the ``Home`` named by ``RETRAINER_HOME`` (default ``./.retrainer``), absolute."""
    return Home(Path(os.environ.get("RETRAINER_HOME", ".retrainer")).resolve())


def configure_environment() -> Home:
    """Point Prefect, MLflow and friends at RETRAINER_HOME before any of them is imported.

    Variables the user already set win; this only fills in defaults. It must run before
    ``import prefect`` because Prefect reads PREFECT_HOME when its settings load.
    """
    h = home()
    h.root.mkdir(parents=True, exist_ok=True)
    defaults = {
        "PREFECT_HOME": str(h.prefect),
        "MLFLOW_TRACKING_URI": f"sqlite:///{h.mlflow_db}",
        # Offline machines: telemetry only produces errors and delays.
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "GX_ANALYTICS_ENABLED": "false",
        # The ephemeral server takes 15-44 s to start on 2 cores, above its 20 s default.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PREFECT_LOGGING_LEVEL": "INFO",
        "GIT_PYTHON_REFRESH": "quiet",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    stack_api = h.stack / "prefect_api_url"
    if "PREFECT_API_URL" not in os.environ and stack_api.exists():
        url = stack_api.read_text().strip()
        if answers(f"{url}/health"):
            # `make up` is running: send runs to its server so they show in the UI.
            os.environ["PREFECT_API_URL"] = url
    return h
