"""Estimator factories: each returns an unfitted scikit-learn Pipeline.

Imputation, encoding and scaling live inside the Pipeline, so they are fitted on training
rows only and travel with the model to MLflow. A family is a small factory: its
estimator for classification and for regression, its defaults (which ``model.params``
override key by key) and its Optuna search space.
"""

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from retrainer.domain.config import FeatureConfig, ModelConfig, RetrainConfig

_STRATEGY = {
    "median": "median",
    "mean": "mean",
    "most_frequent": "most_frequent",
    "zero": "constant",
}
# Optuna's categorical choices must be plain values: layer shapes are named.
MLP_LAYERS = {"64": [64], "64-32": [64, 32], "128-64": [128, 64]}


@dataclass(frozen=True)
class Family:
    """One model family: its estimators, its defaults and where Optuna searches."""

    classifier: Callable[[], Any] | None
    regressor: Callable[[], Any] | None
    defaults: Callable[[str, int], dict]  # (kind of target, seed) -> parameters
    space: Callable[[Any, str], dict]  # (Optuna trial, kind of target) -> parameters
    # Splits on categories and on missing values natively: ordinal codes, and NaN kept.
    native_categories: bool = False


def _sk(module: str, name: str) -> Callable[[], Any]:
    """The class, imported only when a family is used (scikit-learn imports are slow)."""
    return lambda: getattr(importlib.import_module(module), name)


def _lightgbm(name: str) -> Callable[[], Any]:
    def load():
        try:
            import lightgbm
        except ImportError as exc:
            raise ValueError(
                "family lightgbm needs the optional extra: pip install 'retrainer[lightgbm]'"
            ) from exc
        return getattr(lightgbm, name)

    return load


def _hgb_space(trial, kind: str) -> dict:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.3, log=True),
        "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 15, 127, log=True),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 10, 400, log=True),
        "l2_regularization": trial.suggest_float("l2_regularization", 1e-3, 10.0, log=True),
        "max_features": trial.suggest_float("max_features", 0.4, 1.0),
    }


def _linear_space(trial, kind: str) -> dict:
    if kind == "regression":
        return {"alpha": trial.suggest_float("alpha", 1e-3, 100.0, log=True)}
    return {"C": trial.suggest_float("C", 1e-3, 10.0, log=True)}


def _linear_defaults(kind: str, seed: int) -> dict:
    return {} if kind == "regression" else {"max_iter": 1000, "random_state": seed}


def _forest_space(trial, kind: str) -> dict:
    return {
        "n_estimators": trial.suggest_int("n_estimators", 100, 300, step=50),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 2, 100, log=True),
        "max_features": trial.suggest_float("max_features", 0.1, 0.7),
    }


def _mlp_space(trial, kind: str) -> dict:
    return {
        "hidden_layer_sizes": MLP_LAYERS[trial.suggest_categorical("layers", list(MLP_LAYERS))],
        "alpha": trial.suggest_float("alpha", 1e-5, 1e-1, log=True),
        "learning_rate_init": trial.suggest_float("learning_rate_init", 1e-4, 1e-2, log=True),
    }


def _lightgbm_space(trial, kind: str) -> dict:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.2, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 15, 255, log=True),
        "min_child_samples": trial.suggest_int("min_child_samples", 10, 400, log=True),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.4, 1.0),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
    }


LOGISTIC = _sk("sklearn.linear_model", "LogisticRegression")
FAMILIES: dict[str, Family] = {
    "hist_gradient_boosting": Family(
        _sk("sklearn.ensemble", "HistGradientBoostingClassifier"),
        _sk("sklearn.ensemble", "HistGradientBoostingRegressor"),
        lambda kind, seed: {"random_state": seed},
        _hgb_space,
        native_categories=True,
    ),
    "logistic_regression": Family(LOGISTIC, None, _linear_defaults, _linear_space),
    "linear": Family(
        LOGISTIC, _sk("sklearn.linear_model", "Ridge"), _linear_defaults, _linear_space
    ),
    "random_forest": Family(
        _sk("sklearn.ensemble", "RandomForestClassifier"),
        _sk("sklearn.ensemble", "RandomForestRegressor"),
        lambda kind, seed: {
            "n_estimators": 200,
            "min_samples_leaf": 20,
            "n_jobs": 1,
            "random_state": seed,
        },
        _forest_space,
    ),
    "mlp": Family(
        _sk("sklearn.neural_network", "MLPClassifier"),
        _sk("sklearn.neural_network", "MLPRegressor"),
        lambda kind, seed: {
            "hidden_layer_sizes": [64, 32],
            "early_stopping": True,
            "max_iter": 200,
            "random_state": seed,
        },
        _mlp_space,
    ),
    "lightgbm": Family(
        _lightgbm("LGBMClassifier"),
        _lightgbm("LGBMRegressor"),
        lambda kind, seed: {
            "n_estimators": 300,
            "learning_rate": 0.05,
            "random_state": seed,
            "verbose": -1,
        },
        _lightgbm_space,
        native_categories=True,
    ),
}


def make_estimator(family: str, kind: str, params: dict, seed: int):
    """The family's unfitted estimator for ``kind``: its defaults, overridden by ``params``."""
    found = FAMILIES[family]
    make = found.regressor if kind == "regression" else found.classifier
    if make is None:
        raise ValueError(f"family {family} has no {kind} estimator; use linear for regression")
    return make()(**{**found.defaults(kind, seed), **params})


def check_model(config: RetrainConfig) -> None:
    """Build every configured estimator once: unknown or invalid parameters fail here.

    Called when a config is loaded, so ``{max_iter: -1}`` or a misspelt parameter is a
    config error before any data is read, not a TypeError after features are built.
    """
    kind, model = config.target.kind, config.model
    candidates = [(model.family, model.params)]
    candidates += [(f, {}) for f in config.tuning.families if f != model.family]
    for family, params in candidates:
        where = f"model.params for {family}" if params else f"model family {family}"
        try:
            estimator = make_estimator(family, kind, dict(params), model.seed)
            if hasattr(estimator, "_validate_params"):
                estimator._validate_params()
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from exc


def _imputers(columns: list[str], features: FeatureConfig, default: str | None) -> list[tuple]:
    """One SimpleImputer per strategy, as configured per column.

    With no ``default``, a column without a configured strategy passes through with its
    missing values, for the families that split on them.
    """
    groups: dict[str, list[str]] = {}
    for column in columns:
        groups.setdefault(features.impute.get(column, default), []).append(column)
    kept = groups.pop(None, [])
    return [("missing_kept", "passthrough", kept)] * bool(kept) + [
        (
            f"impute_{strategy}",
            SimpleImputer(
                strategy=_STRATEGY[strategy],
                fill_value=0 if strategy == "zero" else None,
                keep_empty_features=True,
            ),
            cols,
        )
        for strategy, cols in groups.items()
    ]


def build_pipeline(
    model: ModelConfig,
    features: FeatureConfig,
    numeric: list[str],
    categorical: list[str],
    kind: str = "binary",
) -> Pipeline:
    """An unfitted Pipeline for the configured model family and kind of target.

    Numeric columns are imputed as configured per column. A missing category is a category
    of its own (the encoders handle NaN), and an unseen one is treated as missing. Tree
    ensembles that split on categories natively get ordinal codes, and keep the missing
    numbers of the columns with no configured strategy: "no earlier flight today" is
    information a median would hide (on the demo's folds, +0.003 cross-validated ROC AUC
    for HistGradientBoosting). The other families get one-hot columns and scaled numbers,
    imputed by median where nothing is configured.
    """
    params = dict(model.params)
    if FAMILIES[model.family].native_categories:
        encode = OrdinalEncoder(
            handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan
        )
        numeric_steps = ColumnTransformer(
            _imputers(numeric, features, None), verbose_feature_names_out=False
        )
        prep = ColumnTransformer(
            [("numeric", numeric_steps, numeric), ("categorical", encode, categorical)],
            verbose_feature_names_out=False,
        )
        if model.family == "hist_gradient_boosting":
            mask = [False] * len(numeric) + [True] * len(categorical)
            params = {"categorical_features": mask, **params}
    else:
        onehot = OneHotEncoder(handle_unknown="ignore", min_frequency=20)
        numeric_steps = Pipeline(
            [
                ("impute", ColumnTransformer(_imputers(numeric, features, "median"))),
                ("scale", StandardScaler()),
            ]
        )
        prep = ColumnTransformer(
            [("numeric", numeric_steps, numeric), ("categorical", onehot, categorical)]
        )
    estimator = make_estimator(model.family, kind, params, model.seed)
    return Pipeline([("prepare", prep), ("model", estimator)])


def fit_threads(model: ModelConfig) -> int:
    """Native threads for a fit: as configured, else the cores not busy with other work.

    Oversubscription is the risk on small machines: OpenMP threads competing with other
    processes made a 7 s fit take 92 s on a 2-core machine. The 1-minute load average, minus
    this process's own share, tells how many cores others are using.
    """
    if model.threads:
        return model.threads
    cores = len(os.sched_getaffinity(0))
    busy_elsewhere = max(0.0, os.getloadavg()[0] - 1.0)
    return max(1, min(cores, round(cores - busy_elsewhere)))


def one_thread(function):
    """Run ``function`` with native (OpenMP/BLAS) threads capped at one.

    For the many small predictions of evaluation, permutation importance, SHAP and the
    champion's scoring: HistGradientBoosting opens a parallel region per tree, and with two
    threads on a 2-core machine that another process keeps busy, 74 predictions of 1,100
    rows took 37.9 s against 4.2 s with one thread (measured, evaluation of the sampled demo).
    """
    import functools

    @functools.wraps(function)
    def capped(*args, **kwargs):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            return function(*args, **kwargs)

    return capped


def native_threads(threads: int):
    """A context in which native (OpenMP/BLAS) threads are capped at ``threads``."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=threads)


def fit(pipeline: Pipeline, frame: pd.DataFrame, label: str, threads: int) -> Pipeline:
    """Fit ``pipeline`` on ``frame`` with native threads capped at ``threads``."""
    with native_threads(threads):
        return pipeline.fit(frame.drop(columns=[label]), frame[label])


def best_f1_threshold(y_true: np.ndarray, proba: np.ndarray) -> float:
    """The decision threshold with the highest F1 (chosen on validation rows, never test)."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(y_true, proba)
    f1 = 2 * precision * recall / np.clip(precision + recall, 1e-12, None)
    return float(thresholds[int(np.argmax(f1[:-1]))]) if len(thresholds) else 0.5
