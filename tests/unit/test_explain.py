"""SHAP values that add up: exact TreeSHAP for HistGradientBoosting (categorical splits too)."""

import numpy as np
import pandas as pd
import pytest
import shap
from sklearn.ensemble import HistGradientBoostingClassifier

from retrainer.domain.config import FeatureConfig, ModelConfig
from retrainer.domain.explain import (
    Importance,
    explain_model,
    importance_change,
    original_feature,
    shap_values,
)
from retrainer.domain.modeling import build_pipeline
from retrainer.domain.tree_shap import hist_gradient_boosting_shap


def _data(rows: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "a": rng.normal(size=rows),
            "b": rng.normal(size=rows),
            "code": rng.integers(0, 30, rows).astype(float),
        }
    )
    X.loc[rng.random(rows) < 0.1, "a"] = np.nan
    signal = X["a"].fillna(0) + 1.5 * X["code"].isin([2, 5, 7, 21]) + 0.5 * X["b"]
    return X, (signal + rng.normal(size=rows) > 1).astype(int).to_numpy()


def test_tree_shap_equals_shap_on_a_numeric_model():
    X, y = _data()
    model = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X.to_numpy(), y)
    rows = X.to_numpy()[:300]

    ours, expected = hist_gradient_boosting_shap(model, rows)

    explainer = shap.TreeExplainer(model)
    np.testing.assert_allclose(ours, explainer.shap_values(rows), atol=1e-10)
    assert expected == pytest.approx(float(np.ravel(explainer.expected_value)[0]))


def test_tree_shap_adds_up_with_categorical_splits_where_shap_does_not():
    X, y = _data()
    model = HistGradientBoostingClassifier(
        max_iter=20, random_state=0, categorical_features=[False, False, True]
    ).fit(X.to_numpy(), y)
    rows = X.to_numpy()[:300].copy()
    rows[:3, 2] = 99.0  # a category the model never saw goes where missing values go

    ours, expected = hist_gradient_boosting_shap(model, rows)

    np.testing.assert_allclose(
        ours.sum(axis=1) + expected, model.decision_function(rows), atol=1e-9
    )
    theirs = shap.TreeExplainer(model).shap_values(rows, check_additivity=False)
    off = np.abs(theirs.sum(axis=1) + expected - model.decision_function(rows)).max()
    assert off > 0.1  # shap 0.51 reads the category bitsets as thresholds
    assert np.abs(ours[:, 2]).mean() > 0.1  # the category code carries signal


def _frame(rows: int = 800) -> tuple[pd.DataFrame, np.ndarray]:
    X, y = _data(rows)
    X["carrier"] = np.where(X["code"] < 15, "AA", "UA").astype(object)
    return X.drop(columns=["code"]), y


@pytest.mark.parametrize("family", ["hist_gradient_boosting", "random_forest"])
def test_shap_of_a_pipeline_is_per_configured_feature_and_adds_up(family):
    X, y = _frame()
    params = {"max_iter": 20} if family == "hist_gradient_boosting" else {"n_estimators": 20}
    pipeline = build_pipeline(
        ModelConfig(family=family, params=params),
        FeatureConfig(numeric=["a", "b"]),
        ["a", "b"],
        ["carrier"],
    ).fit(X, y)

    values = shap_values(pipeline, X.iloc[:200])

    assert list(values.columns) == ["a", "b", "carrier"] and len(values) == 200
    assert values.abs().sum().gt(0).all()


def test_a_linear_model_is_explained_by_permutation_importance():
    X, y = _frame()
    pipeline = build_pipeline(
        ModelConfig(family="logistic_regression"),
        FeatureConfig(numeric=["a", "b"]),
        ["a", "b"],
        ["carrier"],
    ).fit(X, y)

    importance, values, note = explain_model(pipeline, X.iloc[:200], y[:200], repeats=2, seed=0)

    assert values is None and note == ""
    assert importance.method.startswith("permutation importance")
    assert set(importance.features) == {"a", "b", "carrier"}


def test_transformed_columns_map_back_to_their_feature():
    features = ["dest", "dest_region", "month"]
    assert original_feature("categorical__dest_region_NE", features) == "dest_region"
    assert original_feature("categorical__dest_ORD", features) == "dest"
    assert original_feature("numeric__impute_median__month", features) == "month"


def test_importance_change_puts_the_biggest_move_first():
    champion = Importance("m", 10, {"weather": 0.5, "carrier": 0.2})
    challenger = Importance("m", 10, {"carrier": 0.3, "delays": 0.25})

    rows = importance_change(champion, challenger)

    assert [r.feature for r in rows] == ["carrier", "delays", "weather"]
    assert rows[0].change == pytest.approx(0.1)
    assert (rows[0].champion_rank, rows[0].challenger_rank) == (2, 1)
    assert rows[2].challenger is None and rows[2].change is None
