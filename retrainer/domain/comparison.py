"""Like with like: champion and challenger judged on the same test rows, each with its own inputs.

The champion is scored through its own feature definition (the config it was trained
with), rebuilt from the same validated data and aligned to this run's test rows by key. So
a challenger that drops, renames or adds a feature is compared fairly, and the numbers are
paired row by row for the significance test.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from retrainer.domain.config import PromotionConfig, RetrainConfig
from retrainer.domain.features import build_training_table, feature_columns
from retrainer.domain.significance import GateMetric, Significance, delong, paired_bootstrap

# What defines a model's inputs: two configs equal on these build the same rows.
INPUT_FIELDS = ("base", "lookups", "target", "features")


@dataclass(frozen=True)
class Scores:
    """One model's predictions on the compared rows (see ``gate_predictions``) and its
    decision threshold (binary targets only)."""

    proba: np.ndarray
    threshold: float

    def prediction(self, metric: GateMetric) -> np.ndarray:
        """What ``metric`` is computed on: labels at the threshold, or the scores."""
        if metric.uses_threshold:
            return (self.proba >= self.threshold).astype(float)
        return self.proba


def gate_predictions(kind: str, model, inputs: pd.DataFrame) -> np.ndarray:
    """What the gate compares for a ``kind`` target: the positive class's probability
    (binary), the predicted class (multiclass) or the predicted value (regression)."""
    if kind == "binary":
        return model.predict_proba(inputs)[:, 1]
    return np.asarray(model.predict(inputs))


@dataclass(frozen=True)
class SliceRow:
    """One value of a slice column: its size, both models' metric and the change."""

    column: str
    value: str
    rows: int
    challenger: float
    champion: float | None = None
    change: float | None = None  # positive: the challenger is better here
    gated: bool = False  # large enough to be checked
    loses: bool = False  # gated and worse by more than the tolerance


@dataclass(frozen=True)
class Comparison:
    """The champion and the challenger on the same rows: values, paired test, slices."""

    champion_version: str
    metric: str
    champion_value: float
    challenger_value: float
    significance: Significance
    slices: list[SliceRow] = field(default_factory=list)
    rows_left_out: int = 0
    note: str = ""  # why rows were left out, when any were


def months_of(times: pd.Series, timezone: str) -> pd.Series:
    """``YYYY-MM`` of each timestamp, in ``timezone`` (as the split counts months)."""
    return times.dt.tz_convert(timezone).dt.strftime("%Y-%m")


def trained_months_in(
    champion_months: list[str], test: pd.DataFrame, time_column: str, timezone: str
) -> tuple[list[str], np.ndarray]:
    """Months of the test rows the champion was trained on, and a mask of the rows it never saw."""
    months = months_of(test[time_column], timezone)
    seen = months.isin(set(champion_months)).to_numpy()
    return sorted(set(months[seen])), ~seen


def same_inputs(a: RetrainConfig, b: RetrainConfig) -> bool:
    """True when both configs turn the same data into the same model inputs."""
    return a.model_dump(include=set(INPUT_FIELDS)) == b.model_dump(include=set(INPUT_FIELDS))


def champion_inputs(
    frames: dict[str, pd.DataFrame], champion: RetrainConfig, test: pd.DataFrame, key: list[str]
) -> tuple[pd.DataFrame, np.ndarray]:
    """The champion's own inputs for ``test``'s rows, rebuilt with its config; rows it has.

    Returns the champion's feature columns in ``test``'s row order (rows it cannot build
    are NaN) and a mask of the rows it could build. Raises ``ValueError`` when its
    feature definition cannot be rebuilt from today's data.
    """
    numeric, categorical = feature_columns(champion)
    columns = numeric + categorical
    try:
        table = build_training_table(frames, champion.model_copy(update={"sample_fraction": None}))
    except KeyError as exc:
        raise ValueError(f"its features need {exc} which today's data does not have") from exc
    missing = [c for c in key if c not in table.frame.columns]
    if missing:
        raise ValueError(f"its rows have no key columns {missing} to align them by")
    rows = table.frame[list(dict.fromkeys(key + columns))].drop_duplicates(subset=key)
    aligned = test[key].merge(rows, on=key, how="left", indicator=True, validate="one_to_one")
    found = (aligned.pop("_merge") == "both").to_numpy()
    return aligned[columns], found


def slice_table(
    y: np.ndarray,
    challenger: np.ndarray,
    champion: np.ndarray | None,
    slices: pd.DataFrame,
    metric: GateMetric,
    config: PromotionConfig,
) -> list[SliceRow]:
    """The metric per value of each slice column, worst change first within a column."""
    sign = 1.0 if metric.greater_is_better else -1.0
    rows = []
    for column in slices.columns:
        values = slices[column].astype("string").fillna("(missing)").to_numpy()
        found = []
        for value in np.unique(values):
            mine = values == value
            ours = metric.value(y[mine], challenger[mine])
            if champion is None:
                found.append(SliceRow(column, str(value), int(mine.sum()), ours))
                continue
            theirs = metric.value(y[mine], champion[mine])
            change = sign * (ours - theirs)
            gated = bool(mine.sum() >= config.slice_min_rows and np.isfinite(change))
            loses = gated and change < -config.slice_tolerance
            found.append(
                SliceRow(column, str(value), int(mine.sum()), ours, theirs, change, gated, loses)
            )
        found.sort(key=lambda r: np.inf if r.change is None or np.isnan(r.change) else r.change)
        rows += found
    return rows


def compare(
    version: str,
    y: np.ndarray,
    champion: Scores,
    challenger: Scores,
    slices: pd.DataFrame,
    metric: GateMetric,
    config: PromotionConfig,
    seed: int,
) -> Comparison:
    """Both models on the same rows: metric values, the paired test and the slice table."""
    theirs, ours = champion.prediction(metric), challenger.prediction(metric)
    level = 1 - config.significance_level
    if metric.name == "roc_auc":  # DeLong: exact, and no resampling needed
        significance = delong(y, theirs, ours, level)
    else:
        resamples = config.bootstrap_resamples
        significance = paired_bootstrap(y, theirs, ours, metric, resamples, level, seed)
    return Comparison(
        champion_version=version,
        metric=metric.name,
        champion_value=metric.value(y, theirs),
        challenger_value=metric.value(y, ours),
        significance=significance,
        slices=slice_table(y, ours, theirs, slices, metric, config),
    )
