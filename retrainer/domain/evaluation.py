"""Metrics and plots of a binary classifier on a held-out set."""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from retrainer.domain.config import RetrainConfig
from retrainer.domain.features import Split, model_inputs, predict


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


def plot_curves(y_true: np.ndarray, proba: np.ndarray, threshold: float) -> dict:
    """ROC curve, precision-recall curve and confusion matrix as matplotlib figures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
    return figures


def permutation_importance_table(
    model, features: pd.DataFrame, y_true: np.ndarray, repeats: int, seed: int
) -> list[dict]:
    """Drop in test ROC AUC when each feature is shuffled, most important first.

    Model-agnostic and measured on held-out rows, so it explains what the model relies on
    for this data rather than how it was built.
    """
    from sklearn.inspection import permutation_importance

    result = permutation_importance(
        model, features, y_true, scoring="roc_auc", n_repeats=repeats, random_state=seed
    )
    rows = [
        {"feature": name, "roc_auc_drop": float(mean), "std": float(std)}
        for name, mean, std in zip(
            features.columns, result.importances_mean, result.importances_std, strict=True
        )
    ]
    return sorted(rows, key=lambda r: r["roc_auc_drop"], reverse=True)


def plot_importance(table: list[dict]):
    """Horizontal bar chart of permutation importance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    top = table[:20][::-1]
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(top) + 1))
    ax.barh(
        [r["feature"] for r in top],
        [r["roc_auc_drop"] for r in top],
        xerr=[r["std"] for r in top],
    )
    ax.set_xlabel("drop in test ROC AUC when shuffled")
    fig.tight_layout()
    return fig


@dataclass
class Evaluation:
    """Test metrics, figures and permutation importance of one model."""

    metrics: dict
    figures: dict[str, Any]
    importance: list[dict]


def evaluate(config: RetrainConfig, model: Any, threshold: float, split: Split) -> Evaluation:
    """Test-set metrics, ROC and PR curves, confusion matrix and permutation importance."""
    y_true, proba = predict(config, model, split.test)
    figures = plot_curves(y_true, proba, threshold)
    importance = explain(config, model, split)
    if importance:
        figures["permutation_importance.png"] = plot_importance(importance)
    return Evaluation(classification_metrics(y_true, proba, threshold), figures, importance)


def explain(config: RetrainConfig, model: Any, split: Split) -> list[dict]:
    """Permutation importance on a sample of the test rows (empty when switched off)."""
    rows = min(config.evaluation.importance_rows, len(split.test))
    if rows == 0:
        return []
    sample = model_inputs(config, split.test.sample(rows, random_state=config.model.seed))
    label = config.target.name
    return permutation_importance_table(
        model,
        sample.drop(columns=[label]),
        sample[label].to_numpy(),
        config.evaluation.importance_repeats,
        config.model.seed,
    )
