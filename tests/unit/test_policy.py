"""Alarms from thresholds, the drift diagnosis, and the replay's retrain policies."""

import pytest

from retrainer.domain.config import MonitoringConfig
from retrainer.domain.drift import FeatureDrift, PredictionDrift
from retrainer.domain.policy import (
    Alarm,
    RetrainPolicy,
    calibration_alarm,
    diagnose,
    drift_alarms,
    performance_alarm,
    retrain_due,
)

CONFIG = MonitoringConfig(drifted_share_alarm=0.5, max_drop=0.03, prediction_psi_alarm=0.2)
CALM = PredictionDrift(
    psi=0.01, ks_statistic=0.01, p_value=0.5, mean_reference=0.2, mean_current=0.2
)


def drift(feature: str, drifted: bool, expected: bool = False, missing: float = 0.0):
    return FeatureDrift(
        feature=feature,
        kind="numeric",
        psi=0.9 if drifted else 0.01,
        test="ks",
        statistic=0.3,
        p_value=1e-9,
        missing_reference=0.0,
        missing_current=missing,
        drifted=drifted,
        missing_drifted=missing > 0.1,
        expected=expected,
    )


def test_data_drift_alarm_counts_only_features_not_expected_to_move():
    features = [drift("temp", True), drift("month", True, expected=True), drift("hour", False)]
    (alarm,) = drift_alarms(features, CALM, CONFIG)
    assert alarm.kind == "data_drift"
    assert alarm.detail.startswith("1 of 2 features drifted (50%, alarm at 50%): temp PSI 0.90")
    assert (
        drift_alarms([drift("temp", True), drift("hour", False), drift("day", False)], CALM, CONFIG)
        == []
    )


def test_missing_values_and_prediction_drift_alarms():
    moved = PredictionDrift(
        psi=0.4, ks_statistic=0.2, p_value=0.0, mean_reference=0.2, mean_current=0.3
    )
    alarms = drift_alarms([drift("gust", False, missing=0.3), drift("hour", False)], moved, CONFIG)
    assert [a.kind for a in alarms] == ["missing_values", "prediction_drift"]
    assert "gust 0.0% -> 30.0%" in alarms[0].detail
    assert "mean 0.200 -> 0.300" in alarms[1].detail


def test_realised_performance_decides_once_labels_arrived():
    assert performance_alarm(0.70, 0.60, 0.69, CONFIG) is None  # estimate low, truth fine
    alarm = performance_alarm(0.70, 0.69, 0.66, CONFIG)
    assert alarm.kind == "performance" and "by 0.0400" in alarm.detail
    before_labels = performance_alarm(0.70, 0.66, None, CONFIG)
    assert before_labels.kind == "estimated_performance"
    assert performance_alarm(0.70, 0.68, None, CONFIG) is None


def test_diagnosis_splits_a_drop_into_data_and_concept_drift():
    text = diagnose(baseline=0.70, estimated=0.68, realised=0.63, metric="roc_auc")
    assert "-0.0200 from the shift in inputs" in text
    assert "-0.0500 from a changed relation to the outcome (concept drift)" in text
    assert diagnose(0.70, 0.68, None, "roc_auc").startswith("labels not arrived yet")


ALARMS = [Alarm("performance", "x"), Alarm("data_drift", "y")]


@pytest.mark.parametrize(
    ("policy", "alarms", "period", "last", "due"),
    [
        (RetrainPolicy.NEVER, ALARMS, 5, None, None),
        (RetrainPolicy.MONTHLY, [], 5, None, "schedule"),
        (RetrainPolicy.ON_ALARM, [], 5, None, None),
        (RetrainPolicy.ON_ALARM, ALARMS, 5, None, "alarm: data_drift, performance"),
        (RetrainPolicy.ON_ALARM, ALARMS, 5, 4, None),  # inside the cooldown
        (RetrainPolicy.ON_ALARM, ALARMS, 6, 4, "alarm: data_drift, performance"),
    ],
)
def test_retrain_policies(policy, alarms, period, last, due):
    assert retrain_due(policy, alarms, period, last, cooldown_periods=1) == due


def test_an_outcome_shift_alarms_only_when_configured():
    assert calibration_alarm(0.35, 0.15, CONFIG) is None  # reported, not an alarm by default
    configured = CONFIG.model_copy(update={"max_calibration_gap": 0.1})
    alarm = calibration_alarm(0.35, 0.15, configured)
    assert alarm.kind == "outcome_shift" and "(+0.200, alarm beyond 0.1)" in alarm.detail
    assert calibration_alarm(0.20, 0.15, configured) is None
