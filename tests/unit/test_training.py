"""The training algorithm and what a run records, on a tiny synthetic split."""

import numpy as np
import pandas as pd
import pytest

from retrainer.boundaries.settings import config_path
from retrainer.domain.config import RetrainConfig, load_config
from retrainer.domain.evaluation import evaluate
from retrainer.domain.features import Split, TrainingTable, feature_columns, predict
from retrainer.domain.links import mlflow_links
from retrainer.domain.promotion import ChampionEvidence, decide
from retrainer.domain.records import LoggedModel, training_record
from retrainer.domain.reports import decision_markdown
from retrainer.domain.training import TrainedModel, train


def _rows(config: RetrainConfig, n: int, seed: int) -> pd.DataFrame:
    """Rows with every feature the demo config names; the label follows `distance`."""
    rng = np.random.default_rng(seed)
    numeric, categorical = feature_columns(config)
    data = {c: rng.normal(size=n) for c in numeric}
    data.update({c: rng.choice(["a", "b"], size=n).astype(object) for c in categorical})
    frame = pd.DataFrame(data)
    frame[config.target.name] = (frame["distance"] + rng.normal(scale=0.7, size=n) > 0).astype(int)
    frame["month"] = seed + 1  # an evaluation slice, not a feature
    return frame


@pytest.fixture(scope="module")
def config() -> RetrainConfig:
    config = load_config(config_path("flights"))
    config.model.threads = 1
    config.model.params = {"max_iter": 20}
    config.evaluation.importance_rows = 50
    config.evaluation.importance_repeats = 1
    return config


@pytest.fixture(scope="module")
def split(config: RetrainConfig) -> Split:
    # Months 2013-01 and 2013-02 train; the fold fits on January and validates February.
    train = pd.concat([_rows(config, 600, 0), _rows(config, 300, 1)], ignore_index=True)
    return Split(
        train=train,
        test=_rows(config, 300, 2),
        periods={"train": ["2013-01", "2013-02"], "validation": ["2013-02"], "test": ["2013-03"]},
        folds=[(np.arange(600), np.arange(600, 900))],
    )


@pytest.fixture(scope="module")
def trained(config: RetrainConfig, split: Split) -> TrainedModel:
    return train(config, split)


def test_train_picks_the_threshold_out_of_fold_and_refits_on_all_training_rows(
    config: RetrainConfig, split: Split, trained: TrainedModel
):
    assert trained.validation_metrics["roc_auc"] > 0.75
    assert trained.validation_metrics["n_rows"] == 300  # the fold's validation month
    assert trained.threshold == trained.validation_metrics["threshold"]
    # The refit saw every training row, the validated month too: gradient boosting starts
    # from the log-odds of the label's mean over the rows it was fitted on.
    share = split.train[config.target.name].mean()
    baseline = trained.pipeline.named_steps["model"]._baseline_prediction
    assert float(np.ravel(baseline)[0]) == pytest.approx(np.log(share / (1 - share)))
    y_true, proba = predict(config, trained.pipeline, split.test)
    assert len(proba) == len(y_true) == 300


def test_a_run_records_params_metrics_lineage_and_renders_its_decision(
    config: RetrainConfig, split: Split, trained: TrainedModel
):
    evaluation = evaluate(config, trained.pipeline, trained.threshold, split)
    table = TrainingTable(pd.concat([split.train, split.test]), rows_without_label=0)

    record = training_record(
        config, table, split, trained, evaluation, {"audit": []}, "retrain-x", "run-1"
    )

    assert record.params["train_rows"] == 900 and record.params["test_months"] == "2013-03"
    assert record.metrics["test_roc_auc"] == evaluation.metrics["roc_auc"]
    assert record.tags["prefect_flow_run_id"] == "run-1" and len(record.data_digest) == 64
    assert list(record.input_example.columns) == trained.features
    assert {"config.json", "data/audit.json"} <= record.documents.keys()
    logged = LoggedModel("r1", "3", "flights-delay", "7")
    links = mlflow_links("http://mlflow:5000/", logged)
    assert links.run.startswith("http://mlflow:5000/#/experiments/3/runs/r1")
    assert links.model_version.startswith("http://mlflow:5000/#/models/flights-delay/versions/7")
    decision = decide(0.8, ChampionEvidence(None), config.promotion)
    assert "### flights-delay v7: **promoted**" in decision_markdown(logged, decision)
