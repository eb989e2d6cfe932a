"""The promotion gate and the metrics it compares."""

import numpy as np
import pytest

from retrainer.domain.config import PromotionConfig
from retrainer.domain.evaluation import classification_metrics
from retrainer.domain.metrics import bootstrap_interval, metric_value, task_metrics
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


ERROR_GATE = PromotionConfig(metric="mae", min_improvement=0.5, max_value=30.0)


@pytest.mark.parametrize(
    ("challenger", "promote", "why"),
    [
        (20.0, True, "beats champion v2 21.0000 by +1.0000"),
        (20.8, False, "does not beat"),
        (22.0, False, "margin -1.0000"),
    ],
)
def test_for_an_error_metric_lower_is_better(challenger, promote, why):
    d = decide(challenger, 21.0, "2", ERROR_GATE)
    assert d.promote is promote and why in d.reason


def test_an_error_metric_has_a_ceiling_not_a_floor():
    assert decide(12.0, None, None, ERROR_GATE).promote
    d = decide(31.0, None, None, ERROR_GATE)
    assert not d.promote and "above the ceiling 30.0" in d.reason
    with pytest.raises(ValueError, match="lower is better, so the bound is `max_value`"):
        PromotionConfig(metric="mae", min_value=10)


def test_regression_and_multiclass_metrics():
    y = np.array([10.0, 20.0, 30.0])
    m = task_metrics("regression", y, np.array([12.0, 18.0, 30.0]), None, [])
    assert m["mae"] == pytest.approx(4 / 3) and m["rmse"] == pytest.approx(np.sqrt(8 / 3))
    assert m["r2"] == pytest.approx(1 - 8 / 200)

    labels = np.array(["a", "b", "c", "a"], dtype=object)
    proba = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7], [0.3, 0.6, 0.1]])
    m = task_metrics("multiclass", labels, proba, None, ["a", "b", "c"])
    assert m["accuracy"] == 0.75 and m["classes"] == 3
    assert 0 < m["log_loss"] < 1 and m["roc_auc_ovr"] > 0.8


def test_the_bootstrap_interval_holds_the_estimate_and_narrows_with_rows():
    rng = np.random.default_rng(0)

    def width(n: int) -> tuple[float, float, float]:
        y = rng.integers(0, 2, n)
        p = np.clip(y * 0.3 + rng.random(n) * 0.7, 0, 1)
        low, high = bootstrap_interval("roc_auc", "binary", y, p, 0.5, [], 200, 0.95, 1)
        return low, metric_value("roc_auc", "binary", y, p), high

    small, large = width(200), width(5000)
    assert small[0] < small[1] < small[2] and large[0] < large[1] < large[2]
    assert large[2] - large[0] < (small[2] - small[0]) / 3
