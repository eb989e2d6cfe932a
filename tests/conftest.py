"""Shared fixtures. Tiers: tests/unit (pure functions), tests/flow (Prefect test harness,
MLflow in a temp dir), tests/e2e (a real `prefect server` started by the tests)."""

import os
from pathlib import Path

import pytest
import yaml

# Before Prefect or MLflow is imported anywhere: quiet, offline, no telemetry.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

from retrainer.boundaries.settings import config_path
from retrainer.domain.config import RetrainConfig, TuningConfig, load_config


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private RETRAINER_HOME with MLflow tracking inside it."""
    root = tmp_path / "home"
    root.mkdir()
    monkeypatch.setenv("RETRAINER_HOME", str(root))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    return root


def sampled_demo_config() -> RetrainConfig:
    """The demo config, shrunk to a split that four months of sampled data can fill."""
    config = load_config(config_path("flights"))
    config.split.test_months = 1
    config.split.validation_months = 1  # one fold: fit January-February, validate March
    config.split.min_train_rows = 100
    config.tuning = TuningConfig()  # the configured model only (the search has its own tests)
    config.evaluation.shap_rows = 200  # SHAP of two models on 1,000 rows: seconds per retrain
    return config


@pytest.fixture
def flights_config() -> RetrainConfig:
    """The demo config, shrunk to a split that four months of sampled data can fill."""
    return sampled_demo_config()


@pytest.fixture
def edited_config(tmp_path: Path):
    """Write the demo config, changed by a function of its YAML dict; return the file."""

    def write(change) -> Path:
        config = yaml.safe_load(config_path("flights").read_text())
        change(config)
        path = tmp_path / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        return path

    return write
