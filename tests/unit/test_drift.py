"""Drift statistics on synthetic samples whose shift is known."""

import numpy as np
import pandas as pd
import pytest

from retrainer.domain.config import MonitoringConfig
from retrainer.domain.drift import (
    categorical_psi,
    chi_square_test,
    feature_drift,
    ks_test,
    numeric_psi,
    prediction_drift,
)

RNG = np.random.default_rng(7)
SAME = RNG.normal(0, 1, 20_000), RNG.normal(0, 1, 5_000)
MOVED = RNG.normal(0, 1, 20_000), RNG.normal(1, 1, 5_000)


def test_psi_is_near_zero_for_one_distribution_and_large_for_a_shift():
    assert numeric_psi(*SAME) < 0.01
    assert numeric_psi(*MOVED) > 0.5  # a one-sigma shift


def test_psi_ignores_missing_values_and_handles_a_discrete_column():
    engines = np.array([1.0, 2.0, 2.0, 2.0, 4.0] * 100)
    assert numeric_psi(engines, np.append(engines, [np.nan] * 50)) == pytest.approx(0.0)
    assert numeric_psi(engines, np.array([4.0] * 200)) > 1.0
    assert np.isnan(numeric_psi(engines, np.array([np.nan])))


def test_a_new_category_counts_as_drift_without_an_infinite_psi():
    reference = pd.Series(["AA"] * 500 + ["UA"] * 500)
    current = pd.Series(["AA"] * 250 + ["UA"] * 250 + ["WN"] * 500)
    psi = categorical_psi(reference, current)
    assert 1.0 < psi < 10.0
    assert categorical_psi(reference, reference.sample(frac=1, random_state=1)) == 0.0


def test_tests_tell_noise_from_a_shift():
    assert ks_test(*SAME)[1] > 0.01
    assert ks_test(*MOVED)[1] < 1e-10
    reference = pd.Series(["a", "b"] * 1000)
    assert chi_square_test(reference, pd.Series(["a", "b"] * 300))[1] > 0.5
    assert chi_square_test(reference, pd.Series(["a"] * 400 + ["b"] * 200))[1] < 1e-6
    assert chi_square_test(pd.Series(["a"] * 5), pd.Series(["a"] * 5)) == (0.0, 1.0)


def test_feature_drift_needs_a_large_and_significant_shift_and_flags_missing_values():
    n_ref, n_cur = 4000, 1000
    reference = pd.DataFrame(
        {
            "moved": RNG.normal(0, 1, n_ref),
            "steady": RNG.normal(0, 1, n_ref),
            "month": RNG.integers(1, 4, n_ref).astype(float),
            "gust": RNG.normal(0, 1, n_ref),
            "carrier": RNG.choice(["AA", "UA"], n_ref),
        }
    )
    gust = RNG.normal(0, 1, n_cur)
    gust[: n_cur // 2] = np.nan  # the sensor stopped reporting half the time
    current = pd.DataFrame(
        {
            "moved": RNG.normal(2, 1, n_cur),
            "steady": RNG.normal(0, 1, n_cur),
            "month": np.full(n_cur, 6.0),
            "gust": gust,
            "carrier": RNG.choice(["AA", "UA"], n_cur),
        }
    )
    config = MonitoringConfig(expected_drift=["month"])

    found = {
        d.feature: d
        for d in feature_drift(
            reference, current, ["moved", "steady", "month", "gust"], ["carrier"], config
        )
    }

    assert found["moved"].drifted and found["moved"].test == "ks"
    assert not found["steady"].drifted and not found["carrier"].drifted
    assert found["carrier"].test == "chi2" and found["carrier"].kind == "categorical"
    assert found["month"].drifted and found["month"].expected
    assert found["gust"].missing_drifted and found["gust"].missing_change == pytest.approx(0.5)
    assert not found["gust"].drifted  # what remains of it did not move


def test_features_come_most_shifted_first():
    reference = pd.DataFrame({"a": RNG.normal(0, 1, 2000), "b": RNG.normal(0, 1, 2000)})
    current = pd.DataFrame({"a": RNG.normal(0.2, 1, 500), "b": RNG.normal(3, 1, 500)})
    drifts = feature_drift(reference, current, ["a", "b"], [], MonitoringConfig())
    assert [d.feature for d in drifts] == ["b", "a"]


def test_prediction_drift_reports_the_mean_shift():
    reference, current = RNG.beta(2, 6, 5000), RNG.beta(4, 4, 1000)
    drift = prediction_drift(reference, current)
    assert drift.psi > 0.5 and drift.p_value < 1e-10
    assert drift.mean_reference == pytest.approx(0.25, abs=0.01)
    assert drift.mean_current == pytest.approx(0.5, abs=0.02)
