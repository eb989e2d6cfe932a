"""Parallel fold fits: the same search whatever runs it; the plan the settings ask for; the
training rows shipped by reference."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retrainer.boundaries import parallel
from retrainer.boundaries.settings import Settings
from retrainer.domain.config import TuningConfig
from retrainer.domain.features import content_hash
from retrainer.domain.tuning import Search, search
from tests.unit.test_tuning import config_for, rows, split_of


def _as_data(found: Search) -> tuple:
    """Everything a search decides, without the seconds its fits took."""
    trials = [(t.family, t.number, t.params, t.score, t.fold_scores) for t in found.trials]
    return trials, found.best.number, found.cv.y.tolist(), found.cv.predicted.tolist()


def test_joblib_workers_find_the_same_search_as_one_fit_after_another(churn_config):
    config = config_for(churn_config)
    config.tuning = TuningConfig(
        families=["logistic_regression", "hist_gradient_boosting"], trials=3, timeout_seconds=60
    )
    split = split_of(rows(300, 4), folds=3)

    in_turn = search(config, split, threads=1)
    calls = []

    def counting(function, rows, jobs):
        calls.append(len(jobs))
        return parallel.joblib_mapper(2)(function, rows, jobs)

    side_by_side = search(config, split, threads=1, mapper=counting)

    assert _as_data(side_by_side) == _as_data(in_turn)
    # Three rounds, each both families' next trial on all three folds at once.
    assert calls == [6, 6, 6]


def test_the_settings_choose_the_mapper_and_divide_the_cores(monkeypatch):
    for name in ("RETRAINER_PARALLEL", "RETRAINER_DASK_ADDRESS"):
        monkeypatch.delenv(name, raising=False)

    assert parallel.plan(2, Settings()) == parallel.Plan("joblib", workers=2, threads_per_fit=1)
    monkeypatch.setenv("RETRAINER_PARALLEL", "sequential")
    assert parallel.plan(2, Settings()) == parallel.Plan("sequential", 1, threads_per_fit=2)
    monkeypatch.setenv("RETRAINER_PARALLEL", "dask")
    assert parallel.plan(4, Settings()) == parallel.Plan("dask", workers=4, threads_per_fit=1)
    # An external scheduler, named alone, is enough to choose Dask.
    monkeypatch.delenv("RETRAINER_PARALLEL")
    monkeypatch.setenv("RETRAINER_DASK_ADDRESS", "tcp://10.0.0.5:8786")
    chosen = parallel.plan(2, Settings())
    assert (chosen.mode, chosen.address, chosen.threads_per_fit) == (
        "dask",
        "tcp://10.0.0.5:8786",
        1,
    )
    assert parallel.describe(chosen) == "dask, on tcp://10.0.0.5:8786 x 1 thread(s)"
    monkeypatch.setenv("RETRAINER_PARALLEL", "joblib")
    assert parallel.plan(2, Settings()).mode == "joblib"
    monkeypatch.setenv("RETRAINER_PARALLEL", "ray")
    with pytest.raises(ValueError, match="RETRAINER_PARALLEL"):
        Settings()


def test_the_rows_travel_as_a_file_read_once_per_process_and_checked(tmp_path):
    frame = pd.DataFrame(
        {
            "distance": np.linspace(0, 1, 50),
            "carrier": pd.Series(["AA", "UA"] * 25, dtype="str"),
            "delayed": np.arange(50) % 2,
        }
    )
    stored = parallel.store_rows(frame, tmp_path)

    read = parallel.read_rows(stored)

    assert stored.sha256 == content_hash(frame) == content_hash(read)
    assert parallel.read_rows(stored) is read  # the second job on this worker reads nothing
    other = parallel.store_rows(frame.iloc[:10], tmp_path)
    Path(other.path).write_bytes(Path(stored.path).read_bytes())  # stale shared storage
    with pytest.raises(parallel.StaleRowsError, match="same RETRAINER_HOME"):
        parallel.read_rows(other)
