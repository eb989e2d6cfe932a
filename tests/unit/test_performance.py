"""Realised and estimated (CBPE) performance, and performance per slice."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from retrainer.domain.performance import (
    estimate,
    expected_metrics,
    expected_roc_auc,
    realised,
    slice_scores,
)

RNG = np.random.default_rng(11)


def sample(n: int, spread: float) -> tuple[np.ndarray, np.ndarray]:
    """Scores from a calibrated model; ``spread`` changes the inputs (covariate shift only)."""
    x = RNG.normal(0, spread, n)
    proba = 1 / (1 + np.exp(-(x - 1)))
    return (RNG.random(n) < proba).astype(int), proba


def test_expected_auc_with_the_truth_as_probabilities_is_the_auc_ties_included():
    scores = np.array([0.1, 0.4, 0.4, 0.35, 0.8, 0.8, 0.2])
    truth = np.array([0, 1, 0, 1, 1, 0, 0])
    assert expected_roc_auc(scores, truth.astype(float)) == pytest.approx(
        roc_auc_score(truth, scores)
    )
    assert np.isnan(expected_roc_auc(scores, np.zeros(7)))


def test_expected_confusion_metrics_follow_the_probabilities():
    scores = np.array([0.9, 0.8, 0.2, 0.1])
    expected = expected_metrics(scores, np.array([1.0, 0.5, 0.5, 0.0]), threshold=0.5)
    assert expected["precision"] == pytest.approx(0.75)
    assert expected["recall"] == pytest.approx(0.75)
    assert expected["accuracy"] == pytest.approx(0.75)
    assert expected["positive_rate"] == pytest.approx(0.5)


def test_the_estimate_is_exact_on_the_reference_and_follows_a_covariate_shift():
    ref_y, ref_p = sample(20_000, 1.0)
    assert estimate(ref_y, ref_p, ref_p, 0.5)["roc_auc"] == pytest.approx(
        roc_auc_score(ref_y, ref_p)
    )
    cur_y, cur_p = sample(20_000, 0.5)  # inputs moved: the AUC changes, the relation does not

    estimated = estimate(ref_y, ref_p, cur_p, 0.5)

    truth = realised(cur_y, cur_p, 0.5)
    assert abs(roc_auc_score(cur_y, cur_p) - roc_auc_score(ref_y, ref_p)) > 0.02
    for metric in ("roc_auc", "accuracy", "f1", "positive_rate"):
        assert estimated[metric] == pytest.approx(truth[metric], abs=0.015), metric


def test_the_estimate_cannot_see_concept_drift_the_realised_value_can():
    ref_y, ref_p = sample(20_000, 1.0)
    cur_y, cur_p = sample(20_000, 1.0)
    flipped = np.where(RNG.random(len(cur_y)) < 0.3, 1 - cur_y, cur_y)  # outcomes changed

    estimated = estimate(ref_y, ref_p, cur_p, 0.5)["roc_auc"]

    assert realised(flipped, cur_p, 0.5)["roc_auc"] < estimated - 0.1


def test_realised_needs_both_classes():
    assert realised(np.array([1, 1]), np.array([0.2, 0.7]), 0.5) is None
    assert realised(np.array([], dtype=int), np.array([]), 0.5) is None


def test_slices_skip_small_groups_and_come_worst_first():
    frame = pd.DataFrame(
        {
            "carrier": ["AA"] * 6 + ["UA"] * 6 + ["WN"] * 2,
            "delayed": [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1],
            "probability": [0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.9, 0.1, 0.5, 0.5, 0.3, 0.2, 0, 1],
        }
    )

    scores = slice_scores(frame, "delayed", "probability", ["carrier"], min_rows=3)

    assert [s.value for s in scores] == ["UA", "AA"]
    assert scores[1].roc_auc == 1.0 and scores[1].rows == 6
    assert scores[1].calibration_gap == pytest.approx(0.5 - 0.5)
