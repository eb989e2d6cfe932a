"""Every model family: imputation and encoding inside the Pipeline, unseen categories cope."""

import numpy as np
import pandas as pd
import pytest

from retrainer.domain.config import ConfigError, FeatureConfig, ModelConfig, load_config
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


def test_gradient_boosting_keeps_missing_values_unless_a_strategy_is_configured():
    features = FeatureConfig(numeric=["x", "gust"], categorical=["cat"], impute={"gust": "zero"})
    model = ModelConfig(family="hist_gradient_boosting", threads=1)
    train = frame(400, 0)
    pipeline = fit(build_pipeline(model, features, ["x", "gust"], ["cat"]), train, "y", 1)

    prepared = pipeline.named_steps["prepare"].transform(train[["x", "gust", "cat"]])
    prepared = pd.DataFrame(prepared, columns=["x", "gust", "cat"])
    assert prepared["x"].isna().sum() == train["x"].isna().sum() > 0
    assert prepared["gust"].notna().all()
    assert (prepared["gust"][train["gust"].isna()] == 0).all()


@pytest.mark.parametrize(
    "family", ["hist_gradient_boosting", "logistic_regression", "random_forest"]
)
def test_every_family_saves_within_the_fixed_list_of_trusted_types(family: str):
    from retrainer.boundaries.tracking import TRUSTED_TYPES, _skops_trusted_types

    features = FeatureConfig(numeric=["x", "gust"], categorical=["cat"], impute={"gust": "zero"})
    model = ModelConfig(family=family, params={}, threads=1)
    pipeline = fit(build_pipeline(model, features, ["x", "gust"], ["cat"]), frame(100, 0), "y", 1)

    assert set(_skops_trusted_types(pipeline)) <= set(TRUSTED_TYPES)


def regression_frame(n: int, seed: int) -> pd.DataFrame:
    data = frame(n, seed)
    data["y"] = data["x"].fillna(0) * 3 + (data["cat"] == "a") * 2
    return data


@pytest.mark.parametrize("family", ["hist_gradient_boosting", "linear", "random_forest", "mlp"])
def test_every_family_has_a_regression_counterpart(family: str):
    features = FeatureConfig(numeric=["x", "gust"], categorical=["cat"])
    model = ModelConfig(family=family, threads=1)
    pipeline = build_pipeline(model, features, ["x", "gust"], ["cat"], kind="regression")
    fit(pipeline, regression_frame(400, 0), "y", 1)

    test = regression_frame(200, 1)
    from sklearn.metrics import r2_score

    assert r2_score(test["y"], pipeline.predict(test[["x", "gust", "cat"]])) > 0.5


def test_the_mlp_classifies():
    features = FeatureConfig(numeric=["x", "gust"], categorical=["cat"])
    pipeline = build_pipeline(ModelConfig(family="mlp"), features, ["x", "gust"], ["cat"])
    fit(pipeline, frame(400, 0), "y", 1)
    assert pipeline.predict_proba(frame(50, 1)[["x", "gust", "cat"]]).shape == (50, 2)


def test_params_override_the_family_defaults():
    features = FeatureConfig(numeric=["x", "gust"], categorical=["cat"])
    model = ModelConfig(family="logistic_regression", params={"max_iter": 2})
    pipeline = build_pipeline(model, features, ["x", "gust"], ["cat"])
    assert pipeline.named_steps["model"].max_iter == 2
    assert pipeline.named_steps["model"].random_state == model.seed  # the other defaults stay


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ({"family": "logistic_regression", "params": {"max_iter": -1}}, "'max_iter' parameter"),
        ({"family": "random_forest", "params": {"n_trees": 5}}, "n_trees"),
    ],
)
def test_bad_params_are_a_config_error_at_load(edited_config, model, message):
    path = edited_config(lambda c: c.update(model=model))
    with pytest.raises(ConfigError, match=rf"model\.params for {model['family']}.*{message}"):
        load_config(path)


def test_a_classifier_only_family_refuses_a_regression_target(edited_config):
    def regression_with_logistic(c):
        c["target"] = {"kind": "regression", "column": "arr_delay", "name": "minutes"}
        c["promotion"] = {"metric": "mae"}
        c["model"] = {"family": "logistic_regression"}

    with pytest.raises(ConfigError, match="has no regression estimator; use linear"):
        load_config(edited_config(regression_with_logistic))


def test_lightgbm_without_its_extra_says_how_to_install_it(edited_config, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "lightgbm", None)  # as if not installed
    path = edited_config(lambda c: c.update(tuning={"families": ["lightgbm"]}))
    with pytest.raises(ConfigError, match=r"pip install 'retrainer\[lightgbm\]'"):
        load_config(path)
