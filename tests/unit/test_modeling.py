"""Every model family: imputation and encoding inside the Pipeline, unseen categories cope."""

import numpy as np
import pandas as pd
import pytest

from retrainer.domain.config import FeatureConfig, ModelConfig
from retrainer.domain.modeling import build_pipeline, fit


def frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    data = pd.DataFrame(
        {
            "x": np.where(rng.random(n) < 0.1, np.nan, x),
            "gust": np.where(rng.random(n) < 0.8, np.nan, rng.random(n)),
            "cat": rng.choice(np.array(["a", "b", np.nan], dtype=object), size=n),
        }
    )
    data["y"] = (x + (data["cat"] == "a") + rng.normal(scale=0.5, size=n) > 0.5).astype(int)
    return data


@pytest.mark.parametrize(
    "family", ["hist_gradient_boosting", "logistic_regression", "random_forest"]
)
def test_family_learns_and_scores_unseen_categories(family: str):
    features = FeatureConfig(numeric=["x", "gust"], categorical=["cat"], impute={"gust": "zero"})
    model = ModelConfig(family=family, params={}, threads=1)
    pipeline = fit(build_pipeline(model, features, ["x", "gust"], ["cat"]), frame(400, 0), "y", 1)

    test = frame(200, 1)
    test.loc[:5, "cat"] = "never-seen"
    proba = pipeline.predict_proba(test[["x", "gust", "cat"]])[:, 1]

    assert np.isfinite(proba).all()
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(test["y"], proba) > 0.75


def test_imputation_is_fitted_on_training_rows_only():
    features = FeatureConfig(numeric=["x", "gust"], categorical=["cat"])
    model = ModelConfig(family="logistic_regression", threads=1)
    train = frame(400, 0)
    pipeline = fit(build_pipeline(model, features, ["x", "gust"], ["cat"]), train, "y", 1)
    imputer = pipeline.named_steps["prepare"].named_transformers_["numeric"]
    medians = imputer.named_steps["impute"].named_transformers_["impute_median"].statistics_
    assert medians[0] == pytest.approx(train["x"].median())


@pytest.mark.parametrize(
    "family", ["hist_gradient_boosting", "logistic_regression", "random_forest"]
)
def test_every_family_saves_within_the_fixed_list_of_trusted_types(family: str):
    from retrainer.boundaries.tracking import TRUSTED_TYPES, _skops_trusted_types

    features = FeatureConfig(numeric=["x", "gust"], categorical=["cat"], impute={"gust": "zero"})
    model = ModelConfig(family=family, params={}, threads=1)
    pipeline = fit(build_pipeline(model, features, ["x", "gust"], ["cat"]), frame(100, 0), "y", 1)

    assert set(_skops_trusted_types(pipeline)) <= set(TRUSTED_TYPES)
