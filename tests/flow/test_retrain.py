"""The retrain flow end to end on sampled demo data, under the Prefect test harness."""

import json
import shutil
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from flows.retrain import retrain
from retrainer.boundaries.settings import expectations_dir
from retrainer.boundaries.validation import DataValidationError
from retrainer.domain.config import RetrainConfig

pytestmark = pytest.mark.flow


def test_first_run_registers_a_champion_with_metrics(flights_config: RetrainConfig, landed: Path):
    summary = retrain(flights_config)

    assert summary.decision == "promoted" and summary.alias == "champion"
    client = MlflowClient()
    champion = client.get_model_version_by_alias("flights-delay", "champion")
    assert str(champion.version) == summary.version == "1"
    metrics = client.get_run(champion.run_id).data.metrics
    for name in ("test_roc_auc", "test_average_precision", "test_f1", "test_log_loss"):
        assert name in metrics
    assert 0.55 < metrics["test_roc_auc"] < 0.9
    assert (
        metrics["test_roc_auc_ci_low"] < metrics["test_roc_auc"] < metrics["test_roc_auc_ci_high"]
    )
    assert metrics["build_seconds_total"] > 0 and "cv_mean" in metrics
    plots = {a.path for a in client.list_artifacts(champion.run_id, "plots")}
    assert {"plots/calibration_curve.png", "plots/learning_time_vs_score.png"} <= plots
    slices = mlflow.artifacts.load_dict(f"runs:/{champion.run_id}/evaluation/slices.json")
    assert {s["slice"] for s in slices} == {"carrier", "origin", "month"}
    assert champion.tags["promotion.decision"] == "promoted"
    assert client.get_run(champion.run_id).data.tags["training_data_sha256"]
    model = mlflow.sklearn.load_model("models:/flights-delay@champion")
    assert hasattr(model, "predict_proba")


def test_a_worse_second_model_is_not_promoted(flights_config: RetrainConfig, landed: Path):
    first = retrain(flights_config)
    crippled = flights_config.model_copy(deep=True)
    crippled.model.params = {"max_iter": 1, "max_depth": 1}
    crippled.promotion.min_value = 0.0  # let the comparison with the champion decide

    second = retrain(crippled)

    assert first.alias == "champion"
    assert second.decision == "rejected" and second.alias == "challenger"
    assert "does not beat champion v1" in second.reason
    client = MlflowClient()
    assert str(client.get_model_version_by_alias("flights-delay", "champion").version) == "1"
    assert str(client.get_model_version_by_alias("flights-delay", "challenger").version) == "2"
    assert client.get_model_version("flights-delay", "2").tags["promotion.decision"] == "rejected"


def test_failing_blocking_expectation_stops_before_training(
    flights_config: RetrainConfig, landed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    suites = tmp_path / "expectations"
    shutil.copytree(expectations_dir(), suites)
    training = json.loads((suites / "training_flights.json").read_text())
    training["expectations"][0]["kwargs"]["min_value"] = 10_000_000  # row count can't pass
    (suites / "training_flights.json").write_text(json.dumps(training))
    monkeypatch.setenv("RETRAINER_EXPECTATIONS", str(suites))

    state = retrain(flights_config, return_state=True)

    assert state.is_failed()
    with pytest.raises(DataValidationError, match="expect_table_row_count_to_be_between"):
        state.result()
    assert MlflowClient().search_registered_models() == []
    assert mlflow.search_runs(search_all_experiments=True).empty
