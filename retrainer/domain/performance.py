"""Performance in service: realised once the labels arrive, estimated before they do.

The estimate is confidence-based performance estimation (CBPE, as NannyML does it): the
model's scores are calibrated on reference rows whose labels are known (the champion's own
test months), and a period's expected confusion matrix and ROC curve follow from the
calibrated probabilities alone. Written here (isotonic calibration from scikit-learn and
a few lines of arithmetic) rather than taken from NannyML, which would add xgboost and
its own pins for this one estimator. It holds while the relation between inputs and outcome stays
as it was (no concept drift); the realised value, once labels arrive, is the check.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression

from retrainer.domain.evaluation import classification_metrics


def fit_calibration(y_true: np.ndarray, proba: np.ndarray) -> IsotonicRegression:
    """Map a model's scores to observed frequencies on rows whose labels are known."""
    return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(proba, y_true)


def expected_roc_auc(scores: np.ndarray, calibrated: np.ndarray) -> float:
    """ROC AUC expected when row i is positive with probability ``calibrated[i]``.

    The chance that a random positive outscores a random negative, each pair weighted by how
    likely it is to be (positive, negative); tied scores count one half. Equals
    ``roc_auc_score`` when ``calibrated`` is the 0/1 truth.
    """
    unique, group = np.unique(scores, return_inverse=True)
    positives = np.bincount(group, weights=calibrated, minlength=len(unique))
    negatives = np.bincount(group, weights=1 - calibrated, minlength=len(unique))
    below = np.cumsum(negatives) - negatives  # negatives with a strictly lower score
    total = positives.sum() * negatives.sum()
    if total == 0:
        return float("nan")
    return float(np.sum(positives * (below + 0.5 * negatives)) / total)


def expected_metrics(scores: np.ndarray, calibrated: np.ndarray, threshold: float) -> dict:
    """ROC AUC and the thresholded metrics a period is expected to have, without its labels."""
    flagged = scores >= threshold
    tp = float(np.sum(calibrated[flagged]))
    fp = float(np.sum(1 - calibrated[flagged]))
    fn = float(np.sum(calibrated[~flagged]))
    tn = float(np.sum(1 - calibrated[~flagged]))
    n = max(len(scores), 1)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "roc_auc": expected_roc_auc(scores, calibrated),
        "accuracy": (tp + tn) / n,
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "positive_rate": float(np.mean(calibrated)) if len(calibrated) else float("nan"),
    }


def estimate(
    reference_y: np.ndarray, reference_proba: np.ndarray, proba: np.ndarray, threshold: float
) -> dict:
    """CBPE: the reference rows' realised metrics plus the change the calibrated scores expect.

    The calibration is fitted on the reference rows, and the expected metrics are computed
    for both sides with it: their difference is the estimated change. Adding it to the
    reference's realised value cancels the estimator's own error on the reference (about
    0.01 ROC AUC on a few thousand rows here), so on unchanged data the estimate is exact.
    """
    calibration = fit_calibration(reference_y, reference_proba)
    before = expected_metrics(reference_proba, calibration.predict(reference_proba), threshold)
    after = expected_metrics(proba, calibration.predict(proba), threshold)
    known = classification_metrics(reference_y, reference_proba, threshold)
    return {k: known[k] + after[k] - before[k] for k in after}


def realised(y_true: np.ndarray, proba: np.ndarray, threshold: float) -> dict | None:
    """The metrics on rows whose labels arrived; None without both classes."""
    if len(y_true) == 0 or len(np.unique(y_true)) < 2:
        return None
    return classification_metrics(y_true.astype(int), proba, threshold)


@dataclass(frozen=True)
class SliceScore:
    """Realised performance of one slice (e.g. carrier = UA) in a period."""

    column: str
    value: str
    rows: int
    positive_rate: float
    mean_probability: float
    roc_auc: float

    @property
    def calibration_gap(self) -> float:
        """Observed minus predicted positive rate: an outcome shift the inputs do not explain."""
        return self.positive_rate - self.mean_probability


def slice_scores(
    frame: pd.DataFrame, label: str, proba: str, columns: list[str], min_rows: int
) -> list[SliceScore]:
    """Per value of each slice column with at least ``min_rows`` labelled rows, worst first."""
    found = []
    for column in columns:
        for value, rows in frame.groupby(frame[column].astype(str), sort=True):
            y = rows[label].to_numpy(int)
            if len(rows) < min_rows or len(np.unique(y)) < 2:
                continue
            scored = realised(y, rows[proba].to_numpy(), 0.5)
            found.append(
                SliceScore(
                    column=column,
                    value=str(value),
                    rows=len(rows),
                    positive_rate=float(y.mean()),
                    mean_probability=float(rows[proba].mean()),
                    roc_auc=scored["roc_auc"] if scored else float("nan"),
                )
            )
    return sorted(found, key=lambda s: s.roc_auc)
