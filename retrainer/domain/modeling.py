"""Estimator factories: each returns an unfitted scikit-learn Pipeline.

Imputation, encoding and scaling live inside the Pipeline, so they are fitted on training
rows only and travel with the model to MLflow.
"""

import os

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from retrainer.domain.config import FeatureConfig, ModelConfig

_STRATEGY = {
    "median": "median",
    "mean": "mean",
    "most_frequent": "most_frequent",
    "zero": "constant",
}


def _imputers(columns: list[str], features: FeatureConfig, default: str) -> list[tuple]:
    """One SimpleImputer per strategy, as configured per column."""
    groups: dict[str, list[str]] = {}
    for column in columns:
        groups.setdefault(features.impute.get(column, default), []).append(column)
    return [
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
    model: ModelConfig, features: FeatureConfig, numeric: list[str], categorical: list[str]
) -> Pipeline:
    """An unfitted Pipeline for the configured model family.

    Numeric columns are imputed as configured per column. A missing category is a category
    of its own (the encoders handle NaN), and an unseen one is treated as missing.
    """
    if model.family == "hist_gradient_boosting":
        encode = OrdinalEncoder(
            handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan
        )
        numeric_steps = ColumnTransformer(_imputers(numeric, features, "median"))
        prep = ColumnTransformer(
            [("numeric", numeric_steps, numeric), ("categorical", encode, categorical)],
            verbose_feature_names_out=False,
        )
        n_numeric = len(numeric)
        categorical_mask = [False] * n_numeric + [True] * len(categorical)
        params = {"random_state": model.seed, **model.params}
        estimator = HistGradientBoostingClassifier(categorical_features=categorical_mask, **params)
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
        if model.family == "logistic_regression":
            estimator = LogisticRegression(max_iter=1000, random_state=model.seed, **model.params)
        else:
            params = {"n_estimators": 200, "min_samples_leaf": 20, "n_jobs": 1, **model.params}
            estimator = RandomForestClassifier(random_state=model.seed, **params)
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


def fit(pipeline: Pipeline, frame: pd.DataFrame, label: str, threads: int) -> Pipeline:
    """Fit ``pipeline`` on ``frame`` with native threads capped at ``threads``."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads):
        return pipeline.fit(frame.drop(columns=[label]), frame[label])


def best_f1_threshold(y_true: np.ndarray, proba: np.ndarray) -> float:
    """The decision threshold with the highest F1 (chosen on validation rows, never test)."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(y_true, proba)
    f1 = 2 * precision * recall / np.clip(precision + recall, 1e-12, None)
    return float(thresholds[int(np.argmax(f1[:-1]))]) if len(thresholds) else 0.5
