"""One period's monitoring report: drift, performance realised and estimated, alarms.

Reference rows: the data the model in service learnt from (its training and validation
months) for feature drift, and its own predictions on its test months (out of sample, labels
known) for prediction drift and for calibrating the performance estimate.
"""

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from retrainer.domain.config import RetrainConfig
from retrainer.domain.drift import FeatureDrift, PredictionDrift, feature_drift, prediction_drift
from retrainer.domain.features import feature_columns
from retrainer.domain.performance import SliceScore, estimate, realised, slice_scores
from retrainer.domain.policy import (
    Alarm,
    calibration_alarm,
    diagnose,
    drift_alarms,
    performance_alarm,
)
from retrainer.domain.scoring import PERIOD, PROBABILITY, VERSION, ModelInService


class MonitoringError(ValueError):
    """A period cannot be monitored: no predictions, no reference rows, or a bad slice."""


def require_scorable(config) -> None:
    """Batch prediction and monitoring work per calendar period on a binary target's
    probabilities; refuse other data sets with the reason instead of failing mid-way."""
    problems = []
    if config.target.kind != "binary":
        problems.append(f"its target is {config.target.kind}, and they need a binary one")
    if not config.source(config.base).time_column:
        problems.append(f"its base source {config.base!r} has no time_column to date records")
    if problems:
        raise MonitoringError(
            f"data set {config.name!r} cannot be scored and monitored in batches: "
            + "; ".join(problems)
            + " (regression and multiclass monitoring are not built yet)"
        )


@dataclass(frozen=True)
class Reference:
    """What the model in service is compared with."""

    features: pd.DataFrame  # its training rows
    y_true: np.ndarray  # its test rows' labels ...
    proba: np.ndarray  # ... and its predictions on them


@dataclass
class MonitoringReport:
    """Everything one monitoring run found about one period's predictions."""

    dataset: str
    period: str
    model: str
    version: str
    metric: str
    rows: int
    labelled: int
    baseline: float  # the model's test score on `metric`
    estimated: dict
    realised: dict | None
    features: list[FeatureDrift]
    prediction: PredictionDrift
    slices: list[SliceScore]
    alarms: list[Alarm]
    diagnosis: str
    reference_rows: int
    predicted_rate: float | None  # mean probability of the labelled records
    trained_on: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> list[FeatureDrift]:
        """Drifted features that are not expected to move."""
        return [d for d in self.features if d.drifted and not d.expected]

    def tags(self) -> dict[str, str]:
        """What identifies the report: data set, period, model version, alarm kinds."""
        return {
            "dataset": self.dataset,
            "period": self.period,
            "model": self.model,
            "model_version": self.version,
            "alarms": ",".join(a.kind for a in self.alarms) or "none",
        }

    def alarm_payload(self, mlflow_run_id: str) -> dict:
        """The alarm event's payload: period, version, alarms, where the report is."""
        return {
            "period": self.period,
            "model": self.model,
            "version": self.version,
            "alarms": [a.as_dict() for a in self.alarms],
            "mlflow_run_id": mlflow_run_id,
        }

    def metrics(self) -> dict[str, float]:
        """Flat numbers for an MLflow run (NaN and missing values left out)."""
        numbers = {
            "rows": self.rows,
            "labelled_rows": self.labelled,
            "label_coverage": self.labelled / self.rows if self.rows else 0.0,
            "drifted_features": len(self.drifted),
            "prediction_psi": self.prediction.psi,
            "mean_probability": self.prediction.mean_current,
            "labelled_mean_probability": self.predicted_rate,
            f"test_{self.metric}": self.baseline,
            **{f"estimated_{k}": v for k, v in self.estimated.items()},
            **{f"realised_{k}": v for k, v in (self.realised or {}).items()},
            **{f"psi.{d.feature}": d.psi for d in self.features},
            **{f"missing.{d.feature}": d.missing_current for d in self.features},
            "alarms": len(self.alarms),
        }
        return {k: float(v) for k, v in numbers.items() if v is not None and v == v}


@dataclass(frozen=True)
class Scope:
    """Which predictions a monitoring run looks at: one period, one model version."""

    period: str
    version: str
    rows: int


def choose_scope(predictions: pd.DataFrame, period: str | None) -> Scope:
    """The period asked for (default: the latest with predictions) and the version that
    scored most of it (the latest version on a tie)."""
    if predictions.empty:
        raise MonitoringError(
            "no predictions yet: run the predict flow first (`retrainer predict`)"
        )
    periods = sorted(predictions[PERIOD].unique())
    period = period or periods[-1]
    if period not in periods:
        raise MonitoringError(f"no predictions for period {period}; periods with some: {periods}")
    counts = predictions.loc[predictions[PERIOD] == period, VERSION].value_counts()
    most = counts[counts == counts.max()].index
    version = max(most, key=lambda v: (len(v), v))  # "10" after "9"
    return Scope(period, str(version), int(counts[version]))


def reference_for(
    config: RetrainConfig, model: ModelInService, table: pd.DataFrame, pipeline
) -> Reference:
    """The model's training rows, and its predictions on its own (labelled) test rows."""
    labelled = table[table[config.target.name].notna()]
    test = labelled[labelled[PERIOD].isin(model.test_months)]
    numeric, categorical = feature_columns(config)
    proba = pipeline.predict_proba(test[numeric + categorical])[:, 1] if len(test) else []
    return Reference(
        features=labelled[labelled[PERIOD].isin(model.trained_on)],
        y_true=test[config.target.name].to_numpy(int),
        proba=np.asarray(proba, dtype=float),
    )


def scored_records(
    config: RetrainConfig, scope: Scope, predictions: pd.DataFrame, table: pd.DataFrame
) -> pd.DataFrame:
    """The scope's predictions with their records' features and labels (NaN: not arrived)."""
    keys = config.source(config.base).key
    chosen = predictions[
        (predictions[PERIOD] == scope.period) & (predictions[VERSION] == scope.version)
    ]
    return chosen[[*keys, PROBABILITY]].merge(table.drop(columns=[PERIOD]), on=keys, how="inner")


def monitor_period(
    config: RetrainConfig,
    period: str,
    model: ModelInService,
    reference: Reference,
    current: pd.DataFrame,
) -> MonitoringReport:
    """Drift, performance and alarms for ``current``: one period's scored records.

    ``current`` holds the model inputs, the ``probability`` the model gave each record and
    the label column, NaN where the label has not arrived yet.
    """
    settings, label = config.monitoring, config.target.name
    if current.empty:
        raise MonitoringError(f"no predictions of {model.model} v{model.version} in {period}")
    if reference.features.empty or len(reference.y_true) == 0:
        raise MonitoringError(
            f"no reference rows for v{model.version}: its months {model.trained_on} and test "
            f"months {model.test_months} are not in the lake"
        )
    missing = sorted(set(settings.slices) - set(current.columns))
    if missing:
        raise MonitoringError(
            f"monitoring.slices names columns {missing} that the scored records do not have"
        )
    numeric, categorical = feature_columns(config)
    features = feature_drift(reference.features, current, numeric, categorical, settings)
    proba = current[PROBABILITY].to_numpy()
    prediction = prediction_drift(reference.proba, proba, settings.bins)
    estimated = estimate(reference.y_true, reference.proba, proba, model.threshold)
    arrived = current[current[label].notna()]
    scored = (
        realised(arrived[label].to_numpy(int), arrived[PROBABILITY].to_numpy(), model.threshold)
        if len(arrived) >= settings.min_labelled_rows
        else None
    )
    metric = settings.metric
    baseline = model.test_metrics[metric]
    now = None if scored is None else scored[metric]
    alarms = drift_alarms(features, prediction, settings)
    predicted = float(arrived[PROBABILITY].mean()) if scored else None
    shifted = calibration_alarm(scored["positive_rate"], predicted, settings) if scored else None
    dropped = performance_alarm(baseline, estimated[metric], now, settings)
    alarms += [a for a in (dropped, shifted) if a]
    return MonitoringReport(
        dataset=config.name,
        period=period,
        model=model.model,
        version=model.version,
        metric=metric,
        rows=len(current),
        labelled=len(arrived),
        baseline=baseline,
        estimated=estimated,
        realised=scored,
        features=features,
        prediction=prediction,
        slices=slice_scores(arrived, label, PROBABILITY, settings.slices, settings.min_slice_rows),
        alarms=alarms,
        diagnosis=diagnose(baseline, estimated[metric], now, metric),
        reference_rows=len(reference.features),
        predicted_rate=predicted,
        trained_on=model.trained_on,
    )


def _number(value: float | None) -> str:
    return "-" if value is None or value != value else f"{value:.4f}"


def report_markdown(report: MonitoringReport) -> str:
    """The report as a person reads it in the Prefect UI."""
    m = report.metric
    verdict = "**ALARM**" if report.alarms else "no alarm"
    realised_value = None if report.realised is None else report.realised[m]
    lines = [
        f"### {report.dataset} {report.period}: {report.model} v{report.version}, {verdict}",
        "",
        f"{report.rows} predictions, labels arrived for {report.labelled}; reference: "
        f"{report.reference_rows} training rows of {', '.join(report.trained_on)}.",
        "",
        f"| {m} | value |",
        "|---|---|",
        f"| model's test score | {_number(report.baseline)} |",
        f"| estimated (CBPE, no labels) | {_number(report.estimated[m])} |",
        f"| realised (arrived labels) | {_number(realised_value)} |",
        "",
        report.diagnosis,
        "",
        *(
            [
                f"Outcomes: {report.realised['positive_rate']:.3f} positive observed, "
                f"{report.predicted_rate:.3f} predicted on average.",
                "",
            ]
            if report.realised
            else []
        ),
        *(f"- **{a.kind}**: {a.detail}" for a in report.alarms),
        "",
        f"Prediction drift: PSI {report.prediction.psi:.3f}, mean probability "
        f"{report.prediction.mean_reference:.3f} -> {report.prediction.mean_current:.3f}.",
        "",
        "| feature | PSI | test | p-value | missing ref -> now | drifted |",
        "|---|---|---|---|---|---|",
        *(
            f"| {d.feature} | {d.psi:.3f} | {d.test} {d.statistic:.3g} | {d.p_value:.2g} | "
            f"{d.missing_reference:.1%} -> {d.missing_current:.1%} | "
            f"{'yes' if d.drifted else 'no'}{' (expected)' if d.expected else ''} |"
            for d in report.features
        ),
    ]
    if report.slices:
        lines += [
            "",
            "| slice | rows | ROC AUC | positive rate | mean probability |",
            "|---|---|---|---|---|",
            *(
                f"| {s.column}={s.value} | {s.rows} | {s.roc_auc:.4f} | {s.positive_rate:.3f} | "
                f"{s.mean_probability:.3f} |"
                for s in report.slices
            ),
        ]
    return "\n".join(lines)


def report_document(report: MonitoringReport) -> dict:
    """The whole report as plain JSON-able data."""
    document = asdict(report)
    document["features"] = [d.as_dict() for d in report.features]
    document["slices"] = [
        {**asdict(s), "calibration_gap": s.calibration_gap} for s in report.slices
    ]
    return document


def plot_drift(report: MonitoringReport, threshold: float):
    """PSI per feature as horizontal bars, with the drift threshold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = report.features[::-1]
    fig, ax = plt.subplots(figsize=(6, 0.28 * len(shown) + 1.2))
    colours = ["tab:red" if d.drifted and not d.expected else "tab:grey" for d in shown]
    ax.barh([d.feature for d in shown], [d.psi for d in shown], color=colours)
    ax.axvline(threshold, linestyle="--", color="black", linewidth=1)
    ax.set_xscale("symlog", linthresh=0.1)
    ax.set_xlabel(f"PSI vs training rows ({report.period}, v{report.version})")
    fig.tight_layout()
    return fig
