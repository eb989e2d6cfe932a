"""The model card: what the model is for, what it learned from, how good it is and where not.

Built from the run's own results (data, split, metrics with intervals, slices, what the
model relies on) plus what a person states in the config's ``model_card`` section; rendered
to Markdown only where it is shown (``reports.card_markdown``).
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from retrainer.domain.comparison import Scores, SliceRow, gate_predictions, slice_table
from retrainer.domain.config import TASK_METRICS, RetrainConfig
from retrainer.domain.explain import Explanation
from retrainer.domain.features import Split, content_hash, feature_columns, model_inputs
from retrainer.domain.fingerprint import Fingerprint
from retrainer.domain.modeling import one_thread
from retrainer.domain.significance import (
    auc_interval,
    bootstrap_interval,
    gate_metric,
)
from retrainer.domain.training import TrainedModel


@dataclass(frozen=True)
class MetricInterval:
    """A test metric with its confidence interval and how the interval was obtained."""

    name: str
    value: float
    low: float
    high: float
    method: str


@dataclass(frozen=True)
class SourceData:
    """One source as the model saw it: rows, the time span, the content hash."""

    name: str
    rows: int
    first: str
    last: str
    sha256: str


@dataclass
class ModelCard:
    """Everything the card says, as data."""

    model: str
    version: str
    run_id: str
    intended_use: str
    prediction: str
    family: str
    params: dict
    features: list[str]
    data: list[SourceData]
    fingerprint: Fingerprint
    periods: dict[str, list[str]]
    rows: dict[str, int]
    threshold: float
    level: float
    metrics: list[MetricInterval]
    slice_metric: str
    slices: list[SliceRow]
    explanation: Explanation
    limitations: list[str] = field(default_factory=list)


def metric_intervals(
    y: np.ndarray, predicted: np.ndarray, threshold: float, config: RetrainConfig
) -> list[MetricInterval]:
    """Each gate metric of the target's kind on the test rows with its interval (DeLong for
    ROC AUC, else bootstrap); ``predicted`` as ``comparison.gate_predictions`` gives it."""
    promotion, kind = config.promotion, config.target.kind
    level = 1 - promotion.significance_level
    found = []
    for name in TASK_METRICS[kind]:
        try:
            metric = gate_metric(name, kind)
        except ValueError:  # no paired statistic for it (multiclass probabilities)
            continue
        prediction = Scores(predicted, threshold).prediction(metric)
        if name == "roc_auc":
            low, high = auc_interval(y, predicted, level)
            method = "DeLong"
        else:
            low, high = bootstrap_interval(
                y, prediction, metric, promotion.bootstrap_resamples, level, config.model.seed
            )
            method = f"bootstrap ({promotion.bootstrap_resamples} resamples)"
        found.append(MetricInterval(name, metric.value(y, prediction), low, high, method))
    return found


def source_data(frames: dict[str, pd.DataFrame], config: RetrainConfig) -> list[SourceData]:
    """Rows, time span and content hash of every source read for this run."""
    found = []
    for source in config.sources:
        frame = frames[source.name]
        times = frame[source.time_column] if source.time_column else pd.Series(dtype=object)
        first, last = (str(times.min()), str(times.max())) if len(times) else ("-", "-")
        found.append(SourceData(source.name, len(frame), first, last, content_hash(frame)))
    return found


def limitations(config: RetrainConfig, split: Split, y: np.ndarray) -> list[str]:
    """What the card warns about: stated ones first, then what follows from the data."""
    promotion, found = config.promotion, [*config.model_card.limitations]
    if config.split.kind == "time":
        months = split.periods["train"]
        found.append(
            f"Learned from {months[0]} to {months[-1]} and tested on "
            f"{', '.join(split.periods['test'])} only: other seasons and schedule changes are "
            "unseen."
        )
    else:
        found.append("Tested on a random holdout of the same period: drift over time is unseen.")
    if config.target.kind == "binary":
        found.append(
            f"{float(np.mean(y)):.1%} of test rows are positive; precision and recall depend on "
            "the decision threshold chosen on the out-of-fold predictions."
        )
    return [
        *found,
        "Categories not seen in training are treated as missing.",
        f"Slices smaller than {promotion.slice_min_rows} rows are reported, not checked.",
    ]


def target_rule(target) -> str:
    """What the model predicts, in words."""
    if target.kind == "binary" and target.threshold is not None:
        return f"{target.column} >= {target.threshold}"
    if target.kind == "binary":
        return f"{target.column} == {target.positive!r}"
    return f"{target.column} ({target.kind})"


@one_thread
def build_card(
    config: RetrainConfig,
    frames: dict[str, pd.DataFrame],
    split: Split,
    trained: TrainedModel,
    version: tuple[str, str],
    fingerprint: Fingerprint,
    explanation: Explanation,
) -> ModelCard:
    """The card of the model trained in this run, registered as ``version`` (number, run id)."""
    kind = config.target.kind
    rows = model_inputs(config, split.test)
    labels = rows.pop(config.target.name)
    y = labels.to_numpy(dtype="float64") if kind == "regression" else labels.to_numpy()
    metric = gate_metric(config.promotion.metric, kind)
    predicted = gate_predictions(kind, trained.pipeline, rows)
    ours = Scores(predicted, trained.threshold).prediction(metric)
    slices = split.test[config.promotion.slices].reset_index(drop=True)
    numeric, categorical = feature_columns(config)
    base = config.source(config.base)
    return ModelCard(
        model=config.mlflow.registered_model,
        version=version[0],
        run_id=version[1],
        intended_use=config.model_card.intended_use,
        prediction=(
            f"`{config.target.name}`: {target_rule(config.target)} for each `{config.base}` "
            f"record"
            + (
                f", {config.features.prediction_horizon_hours:g} h before its `{base.time_column}`"
                if base.time_column
                else ""
            )
        ),
        family=config.model.family,
        params=dict(config.model.params),
        features=numeric + categorical,
        data=source_data(frames, config),
        fingerprint=fingerprint,
        periods=split.periods,
        rows={"train": len(split.train), "test": len(split.test)},
        threshold=trained.threshold,
        level=1 - config.promotion.significance_level,
        metrics=metric_intervals(y, predicted, trained.threshold, config),
        slice_metric=metric.name,
        slices=slice_table(y, ours, None, slices, metric, config.promotion),
        explanation=explanation,
        limitations=limitations(config, split, y),
    )
