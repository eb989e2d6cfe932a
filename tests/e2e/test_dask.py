"""The training stage on an external Dask cluster, chosen by settings alone.

A real `dask scheduler` and `dask worker` processes on loopback, started as an operator
would; `retrainer run` with RETRAINER_PARALLEL=dask and RETRAINER_DASK_ADDRESS sends its fold
fits there as Prefect task runs, and finds exactly what the same run finds one fit at a time.
"""

import re
from pathlib import Path

import pytest
import yaml
from mlflow import MlflowClient

from retrainer.boundaries.settings import Home
from retrainer.operations import dask_cluster
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e
NAME = "e2e-dask"  # an experiment and a model of its own: the other tests' champion stays
FOLD_FITS = 4  # two families (their defaults) x two folds


def _config(stack: Stack, folder: Path) -> Path:
    config = yaml.safe_load(stack.config.read_text())
    config["name"] = NAME
    config["mlflow"] = {"experiment": NAME, "registered_model": NAME}
    config["split"]["validation_months"] = 2  # folds: fit January, then January-February
    config["tuning"] = {
        "families": ["hist_gradient_boosting", "logistic_regression"],
        "trials": 1,
    }
    path = folder / f"{NAME}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _retrain(stack: Stack, config: Path) -> dict[str, float]:
    """`retrainer run --force` as a user types it; the metrics of the model it logged.

    Seconds vary from run to run; the second run also scores the first as its champion.
    """
    done = stack.cli("run", "--config", str(config), "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    run_id = re.search(r"MLflow run ([0-9a-f]{32})", done.stdout).group(1)
    tracking = MlflowClient(tracking_uri=f"sqlite:///{stack.home.mlflow_db}")
    metrics = tracking.get_run(run_id).data.metrics
    return {k: v for k, v in metrics.items() if "seconds" not in k and "champion" not in k}


def _fold_fit_runs(stack: Stack) -> list[dict]:
    body = {"task_runs": {"name": {"like_": "fit-fold-"}}}
    response = stack.post("/task_runs/filter", body)
    response.raise_for_status()
    return response.json()


def test_fold_fits_run_on_an_external_dask_scheduler_with_the_same_result(
    running_stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    config = _config(running_stack, tmp_path)
    cluster = Home(tmp_path / "cluster")
    address = dask_cluster.start(cluster, workers=2, threads=1)
    try:
        monkeypatch.setenv("RETRAINER_PARALLEL", "sequential")
        in_turn = _retrain(running_stack, config)
        assert _fold_fit_runs(running_stack) == []  # one after another: no task runs

        monkeypatch.delenv("RETRAINER_PARALLEL")  # the scheduler's address alone says Dask
        monkeypatch.setenv("RETRAINER_DASK_ADDRESS", address)
        on_dask = _retrain(running_stack, config)
    finally:
        dask_cluster.stop(cluster)

    assert on_dask == in_turn and "test_roc_auc" in on_dask and "cv_mean" in on_dask
    fold_fits = _fold_fit_runs(running_stack)
    assert len(fold_fits) == FOLD_FITS
    assert {r["state"]["type"] for r in fold_fits} == {"COMPLETED"}
    assert {r["name"] for r in fold_fits} == {
        f"fit-fold-{family}-0-{fold}"  # each family's first trial, on each fold
        for family in ("hist_gradient_boosting", "logistic_regression")
        for fold in (0, 1)
    }
    # The worker processes of that cluster ran them, and said so in their own log.
    log = (cluster.logs / f"{dask_cluster.WORKERS}.log").read_text()
    ran_here = re.findall(r"Task run 'fit-fold-[\w-]+' - .* on dask worker (tcp://\S+)", log)
    assert len(ran_here) == FOLD_FITS and len(set(ran_here)) == 2, log[-3000:]
