"""One period's monitoring report on synthetic scored records."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from retrainer.domain.config import RetrainConfig
from retrainer.domain.features import feature_columns
from retrainer.domain.monitoring import (
    MonitoringError,
    Reference,
    choose_scope,
    monitor_period,
    report_document,
    report_markdown,
)
from retrainer.domain.scoring import PERIOD, PROBABILITY, VERSION, ModelInService

RNG = np.random.default_rng(3)
MODEL = ModelInService("m", "2", 0.3, ["2013-01", "2013-02"], ["2013-03"], {"roc_auc": 0.75})


def records(config: RetrainConfig, n: int, shift: float, noise: float) -> pd.DataFrame:
    """Records whose ``weather_temp`` moves by ``shift``; ``noise`` flips outcomes."""
    numeric, categorical = feature_columns(config)
    frame = pd.DataFrame({c: RNG.normal(0, 1, n) for c in numeric})
    for column in categorical:
        frame[column] = RNG.choice(["A", "B", "C"], n)
    frame["weather_temp"] += shift
    frame[PROBABILITY] = 1 / (1 + np.exp(-(frame["weather_temp"] - 1)))
    outcome = (RNG.random(n) < frame[PROBABILITY]).astype(float)
    flip = RNG.random(n) < noise
    frame[config.target.name] = np.where(flip, 1 - outcome, outcome)
    return frame


def reference(config: RetrainConfig) -> Reference:
    test = records(config, 4000, 0.0, 0.0)
    return Reference(
        records(config, 8000, 0.0, 0.0),
        test[config.target.name].to_numpy(int),
        test[PROBABILITY].to_numpy(),
    )


def test_steady_records_raise_no_alarm(flights_config: RetrainConfig):
    flights_config.monitoring.slices = ["carrier"]
    base = reference(flights_config)
    tested = {"roc_auc": roc_auc_score(base.y_true, base.proba)}
    model = ModelInService("m", "2", 0.3, ["2013-01"], ["2013-03"], tested)
    current = records(flights_config, 3000, 0.0, 0.0)

    report = monitor_period(flights_config, "2013-04", model, base, current)

    assert report.alarms == [], report.alarms
    assert report.labelled == report.rows == 3000
    assert [s.column for s in report.slices] == ["carrier"] * 3
    assert report.realised["roc_auc"] == pytest.approx(report.baseline, abs=0.03)


def test_shifted_inputs_and_changed_outcomes_alarm_and_are_told_apart(
    flights_config: RetrainConfig,
):
    numeric, categorical = feature_columns(flights_config)
    # one drifted feature is enough to alarm
    flights_config.monitoring.drifted_share_alarm = 0.9 / len(numeric + categorical)
    current = records(flights_config, 3000, 1.5, 0.3)
    current.loc[:1999, flights_config.target.name] = np.nan  # a third of the labels arrived

    report = monitor_period(flights_config, "2013-04", MODEL, reference(flights_config), current)

    kinds = [a.kind for a in report.alarms]
    assert kinds[:1] == ["data_drift"] and "performance" in kinds
    assert [d.feature for d in report.drifted] == ["weather_temp"]
    assert report.labelled == 1000
    assert "concept drift" in report.diagnosis
    text = report_markdown(report)
    assert "**ALARM**" in text and "| weather_temp |" in text and "labels arrived for 1000" in text
    document = report_document(report)
    assert document["features"][0]["feature"] == "weather_temp"
    assert all(np.isfinite(list(report.metrics().values())))


def test_before_labels_arrive_only_the_estimate_speaks(flights_config: RetrainConfig):
    current = records(flights_config, 3000, 0.0, 0.0)
    current[flights_config.target.name] = np.nan

    report = monitor_period(flights_config, "2013-04", MODEL, reference(flights_config), current)

    assert report.realised is None and report.labelled == 0
    assert report.diagnosis.startswith("labels not arrived yet")


def test_unusable_inputs_are_named(flights_config: RetrainConfig):
    current = records(flights_config, 10, 0.0, 0.0)
    with pytest.raises(MonitoringError, match="no predictions of m v2 in 2013-04"):
        monitor_period(flights_config, "2013-04", MODEL, reference(flights_config), current[:0])
    flights_config.monitoring.slices = ["gate"]
    with pytest.raises(MonitoringError, match=r"columns \['gate'\]"):
        monitor_period(flights_config, "2013-04", MODEL, reference(flights_config), current)


def test_the_scope_is_the_latest_period_and_the_version_that_scored_most_of_it():
    predictions = pd.DataFrame(
        {
            PERIOD: ["2013-03", "2013-04", "2013-04", "2013-04", "2013-04"],
            VERSION: ["9", "9", "10", "10", "11"],
        }
    )
    scope = choose_scope(predictions, None)
    assert (scope.period, scope.version, scope.rows) == ("2013-04", "10", 2)
    assert choose_scope(predictions, "2013-03").version == "9"
    with pytest.raises(MonitoringError, match=r"no predictions for period 2013-05"):
        choose_scope(predictions, "2013-05")
    with pytest.raises(MonitoringError, match="run the predict flow first"):
        choose_scope(predictions[:0], None)


def test_more_outcomes_than_predicted_alarm_when_a_gap_is_configured(
    flights_config: RetrainConfig,
):
    flights_config.monitoring.max_calibration_gap = 0.1
    current = records(flights_config, 3000, 0.0, 0.0)
    label = flights_config.target.name
    current[label] = np.where(RNG.random(3000) < 0.3, 1.0, current[label])  # more delays

    report = monitor_period(flights_config, "2013-04", MODEL, reference(flights_config), current)

    assert [a.kind for a in report.alarms].count("outcome_shift") == 1
    assert report.realised["positive_rate"] - report.predicted_rate > 0.1
    assert "Outcomes:" in report_markdown(report)
