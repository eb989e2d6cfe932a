"""The model card: what the model is for, what it learned from, how good it is and where not.

Built from the run's own results (data, split, metrics with intervals, slices, what the
model relies on) plus what a person states in the config's ``model_card`` section; rendered
to Markdown only where it is shown (``reports.card_markdown``).
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from retrainer.domain.comparison import Scores, SliceRow, slice_table
from retrainer.domain.config import RetrainConfig
from retrainer.domain.explain import Explanation
from retrainer.domain.features import Split, content_hash, feature_columns, predict
from retrainer.domain.fingerprint import Fingerprint
from retrainer.domain.significance import (
    GATE_METRICS,
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
    y: np.ndarray, proba: np.ndarray, threshold: float, config: RetrainConfig
) -> list[MetricInterval]:
    """Each gate metric on the test rows with its interval (DeLong for ROC AUC, else bootstrap)."""
    promotion = config.promotion
    level = 1 - promotion.significance_level
    found = []
    for name, metric in GATE_METRICS.items():
        prediction = Scores(proba, threshold).prediction(metric)
        if name == "roc_auc":
            low, high = auc_interval(y, proba, level)
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


def limitations(config: RetrainConfig, split: Split, positive_rate: float) -> list[str]:
    """What the card warns about: stated ones first, then what follows from the data."""
    months = split.periods["train"] + split.periods["validation"]
    promotion = config.promotion
    return [
        *config.model_card.limitations,
        f"Learned from {months[0]} to {months[-1]} and tested on "
        f"{', '.join(split.periods['test'])} only: other seasons and schedule changes are unseen.",
        f"{positive_rate:.1%} of test rows are positive; precision and recall depend on the "
        "decision threshold chosen on the validation month.",
        "Categories not seen in training (a new carrier, airport) are treated as missing.",
        f"Slices smaller than {promotion.slice_min_rows} rows are reported, not checked.",
    ]


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
    y, proba = predict(config, trained.pipeline, split.test)
    metric = gate_metric(config.promotion.metric)
    ours = Scores(proba, trained.threshold).prediction(metric)
    slices = split.test[config.promotion.slices].reset_index(drop=True)
    numeric, categorical = feature_columns(config)
    base = config.source(config.base)
    return ModelCard(
        model=config.mlflow.registered_model,
        version=version[0],
        run_id=version[1],
        intended_use=config.model_card.intended_use,
        prediction=(
            f"`{config.target.name}`: {config.target.column} >= {config.target.threshold} for "
            f"each `{config.base}` record, {config.features.prediction_horizon_hours:g} h before "
            f"its `{base.time_column}`"
        ),
        family=config.model.family,
        params=dict(config.model.params),
        features=numeric + categorical,
        data=source_data(frames, config),
        fingerprint=fingerprint,
        periods=split.periods,
        rows={"train": len(split.train) + len(split.validation), "test": len(split.test)},
        threshold=trained.threshold,
        level=1 - config.promotion.significance_level,
        metrics=metric_intervals(y, proba, trained.threshold, config),
        slice_metric=metric.name,
        slices=slice_table(y, ours, None, slices, metric, config.promotion),
        explanation=explanation,
        limitations=limitations(config, split, float(np.mean(y))),
    )
