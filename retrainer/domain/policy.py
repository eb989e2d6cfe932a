"""When monitoring raises an alarm, and when a retrain policy retrains.

Alarms come from thresholds in ``monitoring`` (config): data drift, missing values,
prediction drift, and a performance drop, realised when labels arrived, estimated before.
Live, an alarm is a Prefect event and an automation with a cooldown turns it into a retrain;
the replay applies the same rule in simulated time with ``retrain_due``.
"""

from dataclasses import asdict, dataclass
from enum import StrEnum

from retrainer.domain.config import MonitoringConfig
from retrainer.domain.drift import FeatureDrift, PredictionDrift

TOP_FEATURES = 5


@dataclass(frozen=True)
class Alarm:
    """One threshold crossed: its kind and what crossed it, in words."""

    kind: (
        str  # data_drift | missing_values | prediction_drift | performance | estimated_performance
    )
    detail: str

    def as_dict(self) -> dict:
        """Plain dict, for events and JSON."""
        return asdict(self)


def _listed(drifts: list[FeatureDrift]) -> str:
    shown = ", ".join(f"{d.feature} PSI {d.psi:.2f}" for d in drifts[:TOP_FEATURES])
    more = len(drifts) - TOP_FEATURES
    return shown + (f" and {more} more" if more > 0 else "")


def drift_alarms(
    features: list[FeatureDrift], prediction: PredictionDrift, config: MonitoringConfig
) -> list[Alarm]:
    """Alarms about the inputs and the predictions, as configured."""
    watched = [d for d in features if not d.expected]
    drifted = [d for d in watched if d.drifted]
    alarms = []
    if watched and len(drifted) / len(watched) >= config.drifted_share_alarm:
        alarms.append(
            Alarm(
                "data_drift",
                f"{len(drifted)} of {len(watched)} features drifted "
                f"({len(drifted) / len(watched):.0%}, alarm at "
                f"{config.drifted_share_alarm:.0%}): {_listed(drifted)}",
            )
        )
    missing = [d for d in watched if d.missing_drifted]
    if missing:
        moved = ", ".join(
            f"{d.feature} {d.missing_reference:.1%} -> {d.missing_current:.1%}" for d in missing
        )
        alarms.append(
            Alarm(
                "missing_values",
                f"missing-value rate moved by more than {config.missing_change_alarm:.0%}: {moved}",
            )
        )
    if prediction.psi > config.prediction_psi_alarm:
        alarms.append(
            Alarm(
                "prediction_drift",
                f"predicted probability PSI {prediction.psi:.2f} > "
                f"{config.prediction_psi_alarm} (mean {prediction.mean_reference:.3f} -> "
                f"{prediction.mean_current:.3f})",
            )
        )
    return alarms


def performance_alarm(
    baseline: float, estimated: float, realised: float | None, config: MonitoringConfig
) -> Alarm | None:
    """An alarm when the metric fell more than ``max_drop`` below the model's test score.

    The realised value decides once labels arrived; before, the estimate does.
    """
    m, floor = config.metric, baseline - config.max_drop
    if realised is not None:
        if realised < floor:
            return Alarm(
                "performance",
                f"realised {m} {realised:.4f} is below the model's test {m} {baseline:.4f} "
                f"by {baseline - realised:.4f} (alarm beyond {config.max_drop})",
            )
        return None
    if estimated < floor:
        return Alarm(
            "estimated_performance",
            f"estimated {m} {estimated:.4f} (no labels yet) is below the model's test {m} "
            f"{baseline:.4f} by {baseline - estimated:.4f} (alarm beyond {config.max_drop})",
        )
    return None


def calibration_alarm(observed: float, predicted: float, config: MonitoringConfig) -> Alarm | None:
    """An alarm when outcomes moved away from the predicted probabilities, if configured.

    The observed positive rate against the mean predicted probability of the same labelled
    records: a shifted base rate leaves the ranking (ROC AUC) intact but not the calibration
    or the metrics at the model's threshold.
    """
    gap = observed - predicted
    if config.max_calibration_gap is None or abs(gap) <= config.max_calibration_gap:
        return None
    return Alarm(
        "outcome_shift",
        f"observed positive rate {observed:.3f} vs mean predicted probability {predicted:.3f} "
        f"({gap:+.3f}, alarm beyond {config.max_calibration_gap})",
    )


def diagnose(baseline: float, estimated: float, realised: float | None, metric: str) -> str:
    """Tell data drift from concept drift by where the change in performance comes from.

    The estimate assumes the inputs still relate to the outcome as in the reference rows: its
    gap to the test score is what the shift in inputs costs (data drift). The realised value's
    gap to the estimate is what a changed relation costs (concept drift).
    """
    data_effect = estimated - baseline
    if realised is None:
        return (
            f"labels not arrived yet: estimated {metric} {estimated:.4f} vs test {baseline:.4f} "
            f"({data_effect:+.4f} from the shift in inputs)"
        )
    concept_effect = realised - estimated
    return (
        f"realised {metric} {realised:.4f} vs test {baseline:.4f} ({realised - baseline:+.4f}): "
        f"{data_effect:+.4f} from the shift in inputs (data drift, estimated), "
        f"{concept_effect:+.4f} from a changed relation to the outcome (concept drift)"
    )


class RetrainPolicy(StrEnum):
    """How the replay decides to retrain after a period was monitored."""

    NEVER = "never"
    MONTHLY = "monthly"
    ON_ALARM = "on-alarm"


def retrain_due(
    policy: RetrainPolicy,
    alarms: list[Alarm],
    period: int,
    last_alarm_retrain: int | None,
    cooldown_periods: int,
) -> str | None:
    """Why the policy retrains after ``period`` (an index), or None when it does not.

    ``on-alarm`` follows the automation's rule: the first alarm starts a retrain, and alarms
    within ``cooldown_periods`` after an alarm-started retrain start none.
    """
    if policy is RetrainPolicy.MONTHLY:
        return "schedule"
    if policy is RetrainPolicy.NEVER or not alarms:
        return None
    if last_alarm_retrain is not None and period - last_alarm_retrain <= cooldown_periods:
        return None
    return "alarm: " + ", ".join(sorted({a.kind for a in alarms}))
