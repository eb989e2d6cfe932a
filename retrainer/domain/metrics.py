"""Metrics per kind of target, named as scikit-learn names them, and their uncertainty."""

from collections.abc import Callable

import numpy as np
from sklearn import metrics as skm

from retrainer.domain.config import LOWER_IS_BETTER


def classification_metrics(y_true: np.ndarray, proba: np.ndarray, threshold: float) -> dict:
    """ROC AUC, PR AUC, log loss and the thresholded metrics, named as scikit-learn names them."""
    predicted = (proba >= threshold).astype(int)
    tn, fp, fn, tp = skm.confusion_matrix(y_true, predicted, labels=[0, 1]).ravel()
    both_classes = len(np.unique(y_true)) == 2
    return {
        "roc_auc": float(skm.roc_auc_score(y_true, proba)) if both_classes else float("nan"),
        "average_precision": float(skm.average_precision_score(y_true, proba)),
        "log_loss": float(skm.log_loss(y_true, np.clip(proba, 1e-7, 1 - 1e-7), labels=[0, 1])),
        "brier_score": float(skm.brier_score_loss(y_true, proba)),
        "accuracy": float(skm.accuracy_score(y_true, predicted)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y_true, predicted)),
        "precision": float(skm.precision_score(y_true, predicted, zero_division=0)),
        "recall": float(skm.recall_score(y_true, predicted, zero_division=0)),
        "f1": float(skm.f1_score(y_true, predicted, zero_division=0)),
        "threshold": float(threshold),
        "positive_rate": float(np.mean(y_true)),
        "n_rows": len(y_true),
        "true_negatives": int(tn),
        "false_positives": int(fp),
        "false_negatives": int(fn),
        "true_positives": int(tp),
    }


def _roc_auc_ovr(y_true: np.ndarray, proba: np.ndarray, classes: list) -> float:
    if len(np.unique(y_true)) < len(classes):
        return float("nan")  # one-vs-rest needs every class among the rows
    return float(skm.roc_auc_score(y_true, proba, multi_class="ovr", labels=classes))


def multiclass_metrics(y_true: np.ndarray, proba: np.ndarray, classes: list) -> dict:
    """Accuracy, balanced accuracy, macro F1, one-vs-rest ROC AUC and log loss."""
    predicted = np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)]
    clipped = np.clip(proba, 1e-7, 1)
    return {
        "accuracy": float(skm.accuracy_score(y_true, predicted)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y_true, predicted)),
        "f1_macro": float(skm.f1_score(y_true, predicted, average="macro", zero_division=0)),
        "roc_auc_ovr": _roc_auc_ovr(y_true, proba, classes),
        "log_loss": float(
            skm.log_loss(y_true, clipped / clipped.sum(1, keepdims=True), labels=classes)
        ),
        "n_rows": len(y_true),
        "classes": len(classes),
    }


def regression_metrics(y_true: np.ndarray, predicted: np.ndarray) -> dict:
    """MAE, RMSE, R2 and the median absolute error."""
    return {
        "mae": float(skm.mean_absolute_error(y_true, predicted)),
        "rmse": float(skm.root_mean_squared_error(y_true, predicted)),
        "r2": float(skm.r2_score(y_true, predicted)),
        "median_absolute_error": float(skm.median_absolute_error(y_true, predicted)),
        "mean_target": float(np.mean(y_true)),
        "n_rows": len(y_true),
    }


def task_metrics(
    kind: str, y_true: np.ndarray, predicted: np.ndarray, threshold: float | None, classes: list
) -> dict:
    """The metrics users expect for ``kind`` (binary, multiclass, regression)."""
    if kind == "regression":
        return regression_metrics(y_true, predicted)
    if kind == "multiclass":
        return multiclass_metrics(y_true, predicted, classes)
    return classification_metrics(y_true, predicted, 0.5 if threshold is None else threshold)


Score = Callable[[np.ndarray, np.ndarray, float, list], float]
# One headline metric, cheaply: what the bootstrap and the tuning objective recompute.
_ONE: dict[str, Score] = {
    "roc_auc": lambda y, p, t, c: skm.roc_auc_score(y, p),
    "average_precision": lambda y, p, t, c: skm.average_precision_score(y, p),
    "brier_score": lambda y, p, t, c: skm.brier_score_loss(y, p),
    "mae": lambda y, p, t, c: skm.mean_absolute_error(y, p),
    "rmse": lambda y, p, t, c: skm.root_mean_squared_error(y, p),
    "r2": lambda y, p, t, c: skm.r2_score(y, p),
    "roc_auc_ovr": lambda y, p, t, c: _roc_auc_ovr(y, p, c),
}


def metric_value(
    name: str,
    kind: str,
    y_true: np.ndarray,
    predicted: np.ndarray,
    threshold: float | None = None,
    classes: list | None = None,
) -> float:
    """One metric of predictions (NaN when it is undefined on these rows, e.g. one class)."""
    classes = classes or []
    if len(np.unique(y_true)) < 2 and kind != "regression":
        return float("nan")
    if name in _ONE:
        return float(
            _ONE[name](y_true, predicted, 0.5 if threshold is None else threshold, classes)
        )
    return float(task_metrics(kind, y_true, predicted, threshold, classes)[name])


def greater_is_better(name: str) -> bool:
    """False for error metrics (mae, rmse, log_loss, brier_score)."""
    return name not in LOWER_IS_BETTER


def bootstrap_interval(
    name: str,
    kind: str,
    y_true: np.ndarray,
    predicted: np.ndarray,
    threshold: float | None,
    classes: list,
    resamples: int,
    confidence: float,
    seed: int,
) -> tuple[float, float]:
    """Percentile bootstrap interval of one metric over resampled rows (NaN, NaN if off)."""
    if resamples == 0 or len(y_true) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        rows = rng.integers(0, len(y_true), len(y_true))
        values.append(metric_value(name, kind, y_true[rows], predicted[rows], threshold, classes))
    tail = (1 - confidence) / 2 * 100
    low, high = np.nanpercentile(values, [tail, 100 - tail])
    return float(low), float(high)
