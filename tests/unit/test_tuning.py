"""Candidate search and training on tiny tables: CV inside train, budget, direction, threshold."""

import numpy as np
import pandas as pd

from retrainer.domain.config import RetrainConfig, TargetConfig, TuningConfig
from retrainer.domain.features import Split
from retrainer.domain.training import train
from retrainer.domain.tuning import plot_tuning, search, tuning_table


def rows(n: int, seed: int, regression: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    plan = rng.choice(["a", "b"], n)
    signal = x + (plan == "a") + rng.normal(scale=0.7, size=n)
    return pd.DataFrame(
        {
            "tenure": x,
            "plan": plan,
            "y": signal if regression else (signal > 0.8).astype("int64"),
        }
    )


def config_for(churn_config: RetrainConfig, regression: bool = False) -> RetrainConfig:
    config = churn_config.model_copy(deep=True)
    config.target.name = "y"
    if regression:
        config.target = TargetConfig(kind="regression", column="spend", name="y")
        config.promotion.metric = "mae"
    config.model.threads = 1
    config.model.params = {}  # the family's defaults, not the demo's tuned ones
    config.tuning = TuningConfig()  # no search unless a test asks for one
    return config


def split_of(frame: pd.DataFrame, folds: int = 3) -> Split:
    train, test = frame.iloc[:240].reset_index(drop=True), frame.iloc[240:]
    parts = np.array_split(np.arange(240), folds)
    folds_ = [(np.setdiff1d(np.arange(240), p), p) for p in parts]
    return Split(train=train, test=test.reset_index(drop=True), periods={}, folds=folds_)


def test_without_tuning_the_configured_model_is_cross_validated_then_refit(churn_config):
    config = config_for(churn_config)
    config.model.family, config.model.params = "logistic_regression", {"max_iter": 50}

    trained = train(config, split_of(rows(300, 0)))

    assert trained.family == "logistic_regression" and trained.params == {"max_iter": 50}
    assert len(trained.search.trials) == 1 and len(trained.cv["folds"]) == 3
    assert trained.pipeline.named_steps["model"].max_iter == 50
    # The threshold comes from the out-of-fold predictions of the same candidate.
    assert 0 < trained.threshold < 1
    assert trained.validation_metrics["n_rows"] == 240
    assert 0.7 < trained.cv["pooled"] <= 1


def test_each_family_starts_from_its_defaults_and_the_best_wins(churn_config):
    config = config_for(churn_config)
    config.tuning = TuningConfig(
        families=["logistic_regression", "hist_gradient_boosting"], trials=3, timeout_seconds=60
    )

    found = search(config, split_of(rows(300, 1)), threads=1)

    assert [(t.family, t.number) for t in found.trials][::3] == [
        ("logistic_regression", 0),
        ("hist_gradient_boosting", 3),
    ]
    assert found.trials[0].params == {} and found.trials[3].params == {}
    assert found.trials[1].params.keys() == {"C"}
    assert found.best.score == max(t.score for t in found.trials)
    assert all(t.fit_seconds > 0 for t in found.trials)
    table = tuning_table(found)
    assert list(table.columns[:5]) == ["family", "trial", "cv_roc_auc", "spread", "fit_seconds"]
    assert table.iloc[0]["cv_roc_auc"] == round(found.best.score, 4)
    assert plot_tuning(found).axes[0].get_xlabel().startswith("training seconds")


def test_an_exhausted_budget_still_tries_each_familys_defaults(churn_config):
    config = config_for(churn_config)
    config.tuning = TuningConfig(
        families=["linear", "random_forest"], trials=20, timeout_seconds=0.001
    )
    found = search(config, split_of(rows(300, 2)), threads=1)
    assert [t.family for t in found.trials] == ["linear", "random_forest"]


def test_a_lower_is_better_metric_picks_the_smallest_error(churn_config):
    config = config_for(churn_config, regression=True)
    config.tuning = TuningConfig(families=["linear", "hist_gradient_boosting"], trials=2)

    found = search(config, split_of(rows(300, 3, regression=True)), threads=1)

    assert found.metric == "mae"
    assert found.best.score == min(t.score for t in found.trials)
    trained = train(config, split_of(rows(300, 3, regression=True)))
    assert trained.threshold is None and "mae" in trained.validation_metrics
