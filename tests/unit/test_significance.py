"""Paired tests: batch metrics equal scikit-learn's; DeLong equals its definition."""

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from retrainer.domain.significance import (
    GATE_METRICS,
    GateMetric,
    auc_interval,
    delong,
    gate_metric,
    paired_bootstrap,
    resample_weights,
    weighted_accuracy,
)


def _data(rows: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels and two correlated scorers, the second better; scores rounded to force ties."""
    rng = np.random.default_rng(seed)
    y = (rng.random(rows) < 0.3).astype(int)
    noise = rng.normal(size=rows)
    weak = np.round(0.6 * y + noise, 1)
    strong = np.round(1.0 * y + 0.8 * noise + 0.3 * rng.normal(size=rows), 1)
    return y, weak, strong


@pytest.mark.parametrize(
    ("name", "sklearn_metric", "labels"),
    [
        ("roc_auc", skm.roc_auc_score, False),
        ("average_precision", skm.average_precision_score, False),
        ("f1", skm.f1_score, True),
        ("accuracy", skm.accuracy_score, True),
    ],
)
def test_batch_metrics_equal_scikit_learn_with_resample_weights(name, sklearn_metric, labels):
    y, score, _ = _data()
    prediction = (score > 0.5).astype(float) if labels else score
    weights = next(resample_weights(len(y), 5, seed=1))

    ours = GATE_METRICS[name].batch(y, prediction, weights)

    theirs = [sklearn_metric(y, prediction, sample_weight=w) for w in weights]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert GATE_METRICS[name].value(y, prediction) == pytest.approx(sklearn_metric(y, prediction))


def _delong_by_definition(y, a, b):
    """DeLong's z for AUC(b) - AUC(a), straight from the 1988 paper's placement values."""
    pos, neg = y == 1, y == 0

    def placements(score):
        x, z = score[pos][:, None], score[neg][None, :]
        psi = (x > z) + 0.5 * (x == z)
        return psi.mean(axis=1), psi.mean(axis=0), psi.mean()

    v10a, v01a, auc_a = placements(a)
    v10b, v01b, auc_b = placements(b)
    s10, s01 = np.cov(np.vstack([v10a, v10b])), np.cov(np.vstack([v01a, v01b]))
    s = s10 / pos.sum() + s01 / neg.sum()
    return (auc_b - auc_a) / np.sqrt(s[0, 0] + s[1, 1] - 2 * s[0, 1]), auc_b - auc_a


def test_delong_matches_the_definition_with_ties():
    y, weak, strong = _data(rows=300)

    result = delong(y, weak, strong, level=0.95)

    z, gain = _delong_by_definition(y, weak, strong)
    assert result.gain == pytest.approx(gain, abs=1e-12)
    assert result.gain == pytest.approx(skm.roc_auc_score(y, strong) - skm.roc_auc_score(y, weak))
    assert result.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
    half_width = (result.high - result.low) / 2
    assert half_width == pytest.approx(1.959964 * gain / z, rel=1e-5)


def test_delong_and_the_paired_bootstrap_agree_on_the_interval():
    y, weak, strong = _data(rows=4000, seed=3)

    exact = delong(y, weak, strong, level=0.95)
    resampled = paired_bootstrap(y, weak, strong, GATE_METRICS["roc_auc"], 1000, 0.95, seed=0)

    assert exact.gain == pytest.approx(resampled.gain)
    assert exact.low == pytest.approx(resampled.low, abs=0.006)
    assert exact.high == pytest.approx(resampled.high, abs=0.006)
    assert exact.p_value < 0.01 and resampled.p_value < 0.01


def test_identical_models_show_no_difference():
    y, score, _ = _data()

    assert delong(y, score, score, 0.95).p_value == 1.0
    same = paired_bootstrap(y, score, score, GATE_METRICS["average_precision"], 200, 0.95, 0)
    assert same.gain == 0.0 and same.p_value == 1.0


def test_a_worse_challenger_has_a_negative_gain_and_interval():
    y, weak, strong = _data(rows=4000, seed=5)

    result = paired_bootstrap(y, strong, weak, GATE_METRICS["average_precision"], 500, 0.95, 0)

    assert result.gain < 0 and result.high < 0 and result.p_value < 0.01
    assert result.method == "paired bootstrap (500 resamples)"


def test_lower_is_better_metrics_count_a_drop_as_a_gain():
    y, _, _ = _data()
    error_rate = GateMetric(
        "error_rate", lambda y, p, w: 1 - weighted_accuracy(y, p, w), greater_is_better=False
    )
    perfect, wrong_tenth = y.astype(float), y.astype(float).copy()
    wrong_tenth[::10] = 1 - wrong_tenth[::10]

    result = paired_bootstrap(y, wrong_tenth, perfect, error_rate, 200, 0.95, 0)

    assert result.gain == pytest.approx(0.1) and result.low > 0


def test_auc_interval_covers_the_auc():
    y, score, _ = _data(rows=2000)
    low, high = auc_interval(y, score, 0.95)
    assert low < skm.roc_auc_score(y, score) < high and high - low < 0.1


def test_an_unknown_gate_metric_is_named():
    with pytest.raises(ValueError, match="no paired test for metric 'mape'"):
        gate_metric("mape")
