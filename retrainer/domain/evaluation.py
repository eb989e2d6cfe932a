"""Held-out evaluation per kind of target: metrics with an interval, slices, plots, importance."""

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from retrainer.domain.config import RetrainConfig
from retrainer.domain.features import Split, feature_groups, model_inputs, predict
from retrainer.domain.metrics import (
    bootstrap_interval,
    classification_metrics,
    metric_value,
    task_metrics,
)
from retrainer.domain.modeling import one_thread

__all__ = ["Evaluation", "classification_metrics", "evaluate", "score"]

# What permutation importance measures, per kind: the drop in this score when shuffled.
IMPORTANCE_SCORING = {
    "binary": "roc_auc",
    "multiclass": "neg_log_loss",
    "regression": "neg_mean_absolute_error",
}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def classes_of(model: Any) -> list:
    """The classes a fitted classifier predicts, in its probability columns' order."""
    return list(getattr(model, "classes_", []))


def score(config: RetrainConfig, model: Any, frame: pd.DataFrame, threshold: float | None) -> dict:
    """The target kind's metrics of ``model`` on labelled rows (the champion's too)."""
    y_true, predicted = predict(config, model, frame)
    return task_metrics(config.target.kind, y_true, predicted, threshold, classes_of(model))


def binary_figures(y_true: np.ndarray, proba: np.ndarray, threshold: float) -> dict:
    """ROC and precision-recall curves, confusion matrix and calibration curve."""
    plt = _pyplot()
    from sklearn.calibration import CalibrationDisplay

    figures = {}
    fig, ax = plt.subplots(figsize=(5, 5))
    skm.RocCurveDisplay.from_predictions(y_true, proba, ax=ax)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey")
    figures["roc_curve.png"] = fig
    fig, ax = plt.subplots(figsize=(5, 5))
    skm.PrecisionRecallDisplay.from_predictions(y_true, proba, ax=ax)
    figures["precision_recall_curve.png"] = fig
    fig, ax = plt.subplots(figsize=(5, 5))
    skm.ConfusionMatrixDisplay.from_predictions(
        y_true, (proba >= threshold).astype(int), ax=ax, colorbar=False
    )
    ax.set_title(f"threshold {threshold:.3f}")
    figures["confusion_matrix.png"] = fig
    fig, ax = plt.subplots(figsize=(5, 5))
    CalibrationDisplay.from_predictions(y_true, proba, n_bins=10, strategy="quantile", ax=ax)
    ax.set_title(f"Brier score {skm.brier_score_loss(y_true, proba):.4f}")
    figures["calibration_curve.png"] = fig
    return figures


def multiclass_figures(y_true: np.ndarray, proba: np.ndarray, classes: list) -> dict:
    """The confusion matrix, normalised by true class."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 6))
    predicted = np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)]
    skm.ConfusionMatrixDisplay.from_predictions(
        y_true, predicted, labels=classes, normalize="true", ax=ax, colorbar=False
    )
    return {"confusion_matrix.png": fig}


def regression_figures(y_true: np.ndarray, predicted: np.ndarray) -> dict:
    """Predicted against actual, and the residuals' distribution."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    skm.PredictionErrorDisplay.from_predictions(
        y_true, predicted, kind="actual_vs_predicted", subsample=2000, ax=ax, random_state=0
    )
    figures = {"actual_vs_predicted.png": fig}
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.hist(y_true - predicted, bins=60)
    ax.set_xlabel("residual (actual - predicted)")
    figures["residuals.png"] = fig
    return figures


def permutation_importance_table(
    model,
    features: pd.DataFrame,
    y_true: np.ndarray,
    groups: dict[str, list[str]],
    repeats: int,
    seed: int,
    scoring: str,
) -> list[dict]:
    """Drop in the held-out ``scoring`` when each group of features is shuffled, largest first.

    Model-agnostic and measured on held-out rows, so it explains what the model relies on
    for this data rather than how it was built. The columns of a group are shuffled
    together (one permutation of the rows), so correlated features are judged as one.
    """
    scorer = skm.get_scorer(scoring)
    baseline = scorer(model, features, y_true)
    rng = np.random.default_rng(seed)
    rows = []
    for name, columns in groups.items():
        drops = []
        for _ in range(repeats):
            shuffled = features.copy()
            order = rng.permutation(len(features))
            shuffled[columns] = features[columns].iloc[order].set_axis(features.index)
            drops.append(baseline - scorer(model, shuffled, y_true))
        rows.append(
            {
                "feature": name,
                "columns": len(columns),
                "drop": float(np.mean(drops)),
                "std": float(np.std(drops)),
            }
        )
    return sorted(rows, key=lambda r: r["drop"], reverse=True)


def plot_importance(table: list[dict], scoring: str):
    """Horizontal bar chart of permutation importance."""
    plt = _pyplot()
    top = table[:20][::-1]
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(top) + 1))
    ax.barh([r["feature"] for r in top], [r["drop"] for r in top], xerr=[r["std"] for r in top])
    ax.set_xlabel(f"drop in test {scoring} when shuffled")
    fig.tight_layout()
    return fig


def slice_metrics(
    config: RetrainConfig, frame: pd.DataFrame, y_true, predicted, threshold, classes
) -> list[dict]:
    """The headline metric per value of each configured slice column, largest slices first."""
    rows = []
    metric, kind = config.promotion.metric, config.target.kind
    for column in config.evaluation.slices:
        column_values = frame[column]
        if column_values.dtype == "float64" and (column_values.dropna() % 1 == 0).all():
            column_values = column_values.astype("Int64")  # month 12, not 12.0
        values = column_values.astype("string").fillna("<missing>").to_numpy()
        for value in pd.Series(values).value_counts().index:
            mask = values == value
            y = y_true[mask]
            rows.append(
                {
                    "slice": column,
                    "value": value,
                    "rows": int(mask.sum()),
                    "target_mean": float(np.mean(y)) if kind != "multiclass" else float("nan"),
                    metric: metric_value(metric, kind, y, predicted[mask], threshold, classes),
                }
            )
    return rows


@dataclass
class Evaluation:
    """Test metrics (with the headline metric's interval), figures, slices and importance."""

    metrics: dict
    figures: dict[str, Any]
    importance: list[dict]
    slices: list[dict] = field(default_factory=list)
    scoring: str = "roc_auc"


@one_thread
def evaluate(
    config: RetrainConfig, model: Any, threshold: float | None, split: Split
) -> Evaluation:
    """Test metrics with a bootstrap interval, plots, per-slice metrics and importance."""
    kind, metric, classes = config.target.kind, config.promotion.metric, classes_of(model)
    y_true, predicted = predict(config, model, split.test)
    metrics = task_metrics(kind, y_true, predicted, threshold, classes)
    ev = config.evaluation
    low, high = bootstrap_interval(
        metric, kind, y_true, predicted, threshold, classes, ev.bootstrap, ev.confidence, 0
    )
    metrics.update({f"{metric}_ci_low": low, f"{metric}_ci_high": high})
    if kind == "binary":
        figures = binary_figures(y_true, predicted, metrics["threshold"])
    elif kind == "multiclass":
        figures = multiclass_figures(y_true, predicted, classes)
    else:
        figures = regression_figures(y_true, predicted)
    scoring = IMPORTANCE_SCORING[kind]
    importance = explain(config, model, split, scoring)
    if importance:
        figures["permutation_importance.png"] = plot_importance(importance, scoring)
    slices = slice_metrics(config, split.test, y_true, predicted, threshold, classes)
    return Evaluation(metrics, figures, importance, slices, scoring)


def explain(config: RetrainConfig, model: Any, split: Split, scoring: str) -> list[dict]:
    """Grouped permutation importance on a sample of the test rows (empty when switched off)."""
    rows = min(config.evaluation.importance_rows, len(split.test))
    if rows == 0:
        return []
    sample = model_inputs(config, split.test.sample(rows, random_state=config.model.seed))
    label = config.target.name
    return permutation_importance_table(
        model,
        sample.drop(columns=[label]),
        sample[label].to_numpy(),
        feature_groups(config),
        config.evaluation.importance_repeats,
        config.model.seed,
        scoring,
    )
