"""The promotion gate and the metrics it compares."""

import numpy as np
import pandas as pd
import pytest

from retrainer.domain.comparison import Comparison, Scores, SliceRow, compare
from retrainer.domain.config import PromotionConfig
from retrainer.domain.evaluation import classification_metrics
from retrainer.domain.metrics import bootstrap_interval, metric_value, task_metrics
from retrainer.domain.modeling import best_f1_threshold
from retrainer.domain.promotion import (
    ChampionEvidence,
    decide,
    decision_tags,
    settle,
    unavailable,
)
from retrainer.domain.significance import Significance, gate_metric

GATE = PromotionConfig(metric="roc_auc", min_improvement=0.005, min_value=0.6, slice_tolerance=0.02)


def _compared(
    gain: float, p: float = 0.001, slices: list[SliceRow] | None = None, version: str = "3"
) -> ChampionEvidence:
    significance = Significance("DeLong", gain, gain - 0.004, gain + 0.004, p, 0.95, 5000)
    comparison = Comparison(version, "roc_auc", 0.70, 0.70 + gain, significance, slices or [])
    return ChampionEvidence(version, comparison)


def test_first_model_is_promoted_when_above_the_floor():
    d = decide(0.7, ChampionEvidence(None), GATE)
    assert d.promote and d.reason.startswith("first model")


def test_first_model_below_the_floor_is_not_promoted():
    d = decide(0.55, ChampionEvidence(None), GATE)
    assert not d.promote and "below the floor 0.6" in d.reason


def test_nan_metric_is_never_promoted():
    assert not decide(float("nan"), ChampionEvidence(None), GATE).promote


def test_a_real_gain_is_promoted_with_its_evidence():
    d = decide(0.72, _compared(0.02), GATE)

    assert d.promote and d.decision == "promoted"
    assert d.champion_before == "3" and d.champion_metric == 0.70
    assert "beats champion v3" in d.reason
    assert "gain +0.0200 (95% CI +0.0160 to +0.0240), DeLong p 0.0010" in d.reason


@pytest.mark.parametrize(
    ("gain", "p", "why"),
    [
        (0.004, 0.001, "gain +0.0040 is not above min_improvement 0.005"),
        (0.02, 0.2, "not significant (p 0.2000 >= 0.05)"),
        (-0.03, 0.0, "gain -0.0300 is not above min_improvement"),
    ],
)
def test_a_small_lucky_or_negative_gain_is_rejected(gain: float, p: float, why: str):
    d = decide(0.70 + gain, _compared(gain, p), GATE)

    assert not d.promote and d.decision == "rejected"
    assert d.reason.startswith("does not beat champion v3") and why in d.reason


def test_a_slice_that_loses_too_much_blocks_the_promotion():
    slices = [
        SliceRow("carrier", "UA", 900, 0.61, 0.66, -0.05, gated=True, loses=True),
        SliceRow("carrier", "AA", 800, 0.75, 0.70, 0.05, gated=True),
        SliceRow("carrier", "HA", 20, 0.30, 0.80, -0.50),  # too small to gate
    ]
    d = decide(0.72, _compared(0.02, slices=slices), GATE)

    assert not d.promote
    assert "1 slice(s) lose more than 0.02: carrier=UA -0.0500 (900 rows)" in d.reason
    assert decision_tags(d)["promotion.slices_losing"] == "carrier=UA"


def test_a_champion_not_compared_is_kept_with_the_reason():
    evidence = ChampionEvidence("3", not_compared="champion v3 was trained on 2013-12")
    d = decide(0.9, evidence, GATE)

    assert not d.promote and d.decision == "not compared"
    assert "champion v3 was trained on 2013-12" in d.reason and "retrainer promote" in d.reason


def test_promote_anyway_promotes_without_a_comparison():
    evidence = ChampionEvidence("3", not_compared="trained on 2013-12", promote_anyway=True)
    d = decide(0.9, evidence, GATE)
    assert d.promote and "promote_anyway" in d.reason


def test_an_unavailable_champion_never_promotes():
    d = unavailable(0.9, None, "the MLflow registry failed: PERMISSION_DENIED", "roc_auc")
    assert not d.promote and d.decision == "not compared" and "PERMISSION_DENIED" in d.reason


def test_the_decision_is_void_when_the_champion_moved_since_scoring():
    d = decide(0.72, _compared(0.02, version="3"), GATE)

    assert settle(d, "3") == d
    moved = settle(d, "5")
    assert not moved.promote and moved.decision == "rejected"
    assert moved.reason.startswith("the champion moved from v3 to v5 after this run compared")


def test_decision_tags_carry_the_evidence():
    tags = decision_tags(decide(0.72, _compared(0.02), GATE))

    assert tags["promotion.decision"] == "promoted"
    assert tags["promotion.gain"] == "+0.020000"
    assert tags["promotion.interval"] == "95% CI +0.016000 to +0.024000"
    assert tags["promotion.p_value"] == "0.0010" and tags["promotion.test"] == "DeLong"


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
    ("champion_noise", "challenger_noise", "decision"), [(10, 5, "promoted"), (5, 10, "rejected")]
)
def test_for_an_error_metric_lower_is_better(champion_noise, challenger_noise, decision):
    rng = np.random.default_rng(0)
    y = rng.normal(scale=20, size=3000)
    champion = Scores(y + rng.normal(scale=champion_noise, size=len(y)), 0.5)
    challenger = Scores(y + rng.normal(scale=challenger_noise, size=len(y)), 0.5)
    gate = ERROR_GATE.model_copy(update={"bootstrap_resamples": 200})

    comparison = compare(
        "2", y, champion, challenger, pd.DataFrame(index=range(len(y))),
        gate_metric("mae", "regression"), gate, seed=0,
    )  # fmt: skip
    d = decide(comparison.challenger_value, ChampionEvidence("2", comparison), gate)

    assert d.decision == decision
    # the gain is positive when the challenger's error is smaller, whatever the direction
    assert (comparison.significance.gain > 0) is (decision == "promoted")
    assert (comparison.challenger_value < comparison.champion_value) is (decision == "promoted")


def test_an_error_metric_has_a_ceiling_not_a_floor():
    assert decide(12.0, ChampionEvidence(None), ERROR_GATE).promote
    d = decide(31.0, ChampionEvidence(None), ERROR_GATE)
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
