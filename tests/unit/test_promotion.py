"""The promotion gate and the metrics it compares."""

import numpy as np
import pytest

from retrainer.domain.config import PromotionConfig
from retrainer.domain.evaluation import classification_metrics
from retrainer.domain.modeling import best_f1_threshold
from retrainer.domain.promotion import decide

GATE = PromotionConfig(metric="roc_auc", min_improvement=0.005, min_value=0.6)


def test_first_model_is_promoted_when_above_the_floor():
    d = decide(0.7, None, None, GATE)
    assert d.promote and d.reason.startswith("first model")


def test_first_model_below_the_floor_is_not_promoted():
    d = decide(0.55, None, None, GATE)
    assert not d.promote and "below the floor 0.6" in d.reason


@pytest.mark.parametrize(("challenger", "promote"), [(0.706, True), (0.704, False), (0.69, False)])
def test_challenger_must_beat_champion_by_the_margin(challenger: float, promote: bool):
    d = decide(challenger, 0.7, "3", GATE)
    assert d.promote is promote
    assert d.champion_before == "3" and "champion v3 0.7000" in d.reason


def test_a_champion_that_cannot_score_blocks_automatic_promotion():
    d = decide(0.9, None, "3", GATE)
    assert not d.promote and "could not be scored" in d.reason


def test_nan_metric_is_never_promoted():
    assert not decide(float("nan"), None, None, GATE).promote


def test_metrics_and_confusion_matrix():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.6, 0.4, 0.9])
    m = classification_metrics(y, p, 0.5)
    assert m["roc_auc"] == 0.75
    assert (
        m["true_negatives"],
        m["false_positives"],
        m["false_negatives"],
        m["true_positives"],
    ) == (1, 1, 1, 1)
    assert m["precision"] == m["recall"] == m["f1"] == m["accuracy"] == 0.5


def test_best_f1_threshold_separates_perfectly_separable_scores():
    y = np.array([0, 0, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.7, 0.8])
    t = best_f1_threshold(y, p)
    assert 0.3 < t <= 0.7
