"""The retrain flow end to end on sampled demo data, under the Prefect test harness."""

import json
import shutil
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from flows.retrain import retrain
from retrainer.boundaries import aliases
from retrainer.boundaries.settings import expectations_dir
from retrainer.boundaries.validation import DataValidationError
from retrainer.domain.config import ConfigError, RetrainConfig

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


def test_a_worse_model_without_the_weather_is_refused_like_with_like(
    flights_config: RetrainConfig, landed: Path
):
    first = retrain(flights_config)
    crippled = flights_config.model_copy(deep=True)
    crippled.model.params = {"max_iter": 1, "max_depth": 1}
    crippled.features.numeric = [c for c in crippled.features.numeric if "weather" not in c]
    crippled.lookups = [lookup for lookup in crippled.lookups if lookup.source != "weather"]
    # The imputation named a weather column too: the config check refuses a stale name.
    crippled.features.impute = {
        k: v for k, v in crippled.features.impute.items() if "weather" not in k
    }
    crippled.promotion.min_value = 0.0  # let the comparison with the champion decide

    second = retrain(crippled)

    assert first.alias == "champion"
    assert second.decision == "rejected" and second.alias == "challenger"
    assert "does not beat champion v1: gain -" in second.reason
    # The champion was scored through its own features (with the weather): its own score.
    comparison = second.promotion["comparison"]
    client = MlflowClient()
    v1_test_auc = client.get_run(first.run_id).data.metrics["test_roc_auc"]
    assert comparison["champion_value"] == pytest.approx(v1_test_auc, abs=1e-12)
    assert comparison["significance"]["method"] == "DeLong"
    assert comparison["significance"]["rows"] == first.metrics["n_rows"]
    assert {r["column"] for r in comparison["slices"]} == {"carrier", "origin"}
    assert str(client.get_model_version_by_alias("flights-delay", "champion").version) == "1"
    assert str(client.get_model_version_by_alias("flights-delay", "challenger").version) == "2"
    tags = client.get_model_version("flights-delay", "2").tags
    assert tags["promotion.decision"] == "rejected"
    assert tags["promotion.p_value"] and tags["promotion.interval"].startswith("95% CI")
    assert {"model_card.md", "promotion.json"} <= {
        f.path for f in client.list_artifacts(second.run_id)
    }
    plots = {f.path for f in client.list_artifacts(second.run_id, "plots")}
    assert {"plots/shap_summary.png", "plots/importance_change.png"} <= plots
    moves = [(m.alias, m.from_version, m.to_version) for m in aliases.history("flights-delay")]
    assert moves == [("champion", None, "1"), ("challenger", None, "2")]


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


def test_a_misspelt_column_stops_the_flow_before_any_work(
    flights_config: RetrainConfig, landed: Path
):
    broken = flights_config.model_copy(deep=True)
    broken.features.numeric[0] = "mnth"

    state = retrain(broken, return_state=True)

    assert state.is_failed()
    with pytest.raises(ConfigError, match=r"'mnth' is not a column .* \(did you mean 'month'\?\)"):
        state.result()
    assert not (landed.parent / "lake").exists()  # nothing was ingested
