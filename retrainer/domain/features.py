"""The training table: join the sources, derive features and the label, guard against leakage.

Pure functions on DataFrames: no I/O, testable on tiny frames. Every time-dependent value
is taken as known at the prediction time (the event time minus the horizon, to the
minute), by the times the sources declare; ``availability.check_known_by`` proves it row by
row before the table is returned.
"""

import hashlib
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from retrainer.domain.availability import (
    LeakageError,
    check_known_by,
    event_times,
    known_times,
    record_known,
    utc,
)
from retrainer.domain.config import FeatureConfig, Lookup, RetrainConfig
from retrainer.domain.derived import derive
from retrainer.domain.history_features import CUTOFF, EVENT, KNOWN, feature_names, history_features


class TargetError(ValueError):
    """The label cannot be learned from this data (one class, no variation, no rows)."""


@dataclass
class TrainingTable:
    """Rows with features and label, plus what was left out and why."""

    frame: pd.DataFrame
    rows_without_label: int
    build_seconds: dict[str, float] = field(default_factory=dict)


def underived_numeric(features: FeatureConfig) -> list[str]:
    """The numeric features that derived features may read: declared, calendar, history."""
    numeric = list(features.numeric)
    if features.day_of_week_from:
        numeric.append("day_of_week")
    for spec in features.history:
        numeric += feature_names(spec)
    return numeric


def feature_columns(config: RetrainConfig) -> tuple[list[str], list[str]]:
    """Numeric and categorical feature names, after joins and derivations."""
    numeric = underived_numeric(config.features) + list(config.features.derived)
    return numeric, list(config.features.categorical)


def feature_groups(config: RetrainConfig) -> dict[str, list[str]]:
    """Features that explain together: one group per history spec and per lookup, else alone.

    Permuting a group at once measures what the model takes from it; permuting one of many
    correlated features (the same delays over 1 h and 3 h) measures almost nothing.
    """
    numeric, categorical = feature_columns(config)
    groups: dict[str, list[str]] = {}
    owners = {name: spec.name for spec in config.features.history for name in feature_names(spec)}
    for column in numeric + categorical:
        lookup = next((lk for lk in config.lookups if column.startswith(lk.prefix)), None)
        if column in owners:
            group = f"{owners[column]}_* (history)"
        elif lookup is not None:
            group = f"{lookup.prefix}* ({lookup.source})"
        else:
            group = column
        groups.setdefault(group, []).append(column)
    return groups


def model_inputs(config: RetrainConfig, frame: pd.DataFrame) -> pd.DataFrame:
    """The feature columns a model sees, in order (plus the label when present)."""
    numeric, categorical = feature_columns(config)
    label = [config.target.name] if config.target.name in frame else []
    return frame[numeric + categorical + label]


def predict(config: RetrainConfig, model, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Labels and predictions of any fitted model on labelled rows.

    Binary: the positive class's probability; multiclass: one probability column per class
    (in ``model.classes_`` order); regression: the predicted value.
    """
    rows = model_inputs(config, frame)
    label = config.target.name
    inputs = rows.drop(columns=[label])
    if config.target.kind == "regression":
        return rows[label].to_numpy(dtype="float64"), model.predict(inputs)
    proba = model.predict_proba(inputs)
    return rows[label].to_numpy(), proba[:, 1] if config.target.kind == "binary" else proba


def content_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of a frame's values and column names: the training data's identity."""
    digest = hashlib.sha256(",".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def check_leakage(config: RetrainConfig) -> None:
    """Reject the target itself, or a column declared never known in time, as a feature."""
    numeric, categorical = feature_columns(config)
    forbidden = {*config.features.known_after_prediction, config.target.column}
    leaking = sorted(set(numeric + categorical) & forbidden)
    if leaking:
        raise LeakageError(
            f"features {leaking} are known only after the prediction time "
            f"({config.features.prediction_horizon_hours} h before the event time); "
            "remove them from `features` in the config"
        )


def _join_key(table: pd.DataFrame, right: pd.DataFrame, lookup: Lookup) -> pd.DataFrame:
    right = right.drop_duplicates(subset=lookup.by)
    renamed = right.rename(columns={c: f"{lookup.prefix}{c}" for c in lookup.columns})
    return table.merge(renamed, on=lookup.by, how="left", validate="many_to_one")


def _join_asof(table: pd.DataFrame, right: pd.DataFrame, lookup: Lookup) -> pd.DataFrame:
    """Attach the latest reading known strictly before each row's prediction time."""
    stamp = f"{lookup.prefix}{KNOWN}"
    right = right.rename(columns={c: f"{lookup.prefix}{c}" for c in [*lookup.columns, KNOWN]})
    right = right.dropna(subset=[stamp]).sort_values(stamp, kind="stable")
    for key in lookup.by:
        right[key] = right[key].astype(table[key].dtype)
    left = table.reset_index(names="_order").sort_values(CUTOFF, kind="stable")
    joined = pd.merge_asof(
        left,
        right,
        left_on=CUTOFF,
        right_on=stamp,
        by=lookup.by,
        direction="backward",
        allow_exact_matches=False,  # known strictly before the prediction time, as history
        tolerance=pd.Timedelta(hours=lookup.tolerance_hours),
    )
    return joined.sort_values("_order").drop(columns=["_order"]).reset_index(drop=True)


def _lookups(
    table: pd.DataFrame, frames: dict[str, pd.DataFrame], config: RetrainConfig
) -> tuple[pd.DataFrame, dict[str, pd.Series | None]]:
    """Join every lookup; per looked-up column, when the value it brought in was known.

    An as-of lookup takes the latest record known before the cutoff: known
    ``available_after_minutes`` after its time, or at its time when nothing is declared.
    """
    known: dict[str, pd.Series | None] = {}
    for lookup in config.lookups:
        source, right = config.source(lookup.source), frames[lookup.source]
        times = {f"{KNOWN}{c}": known_times(right, source, c) for c in lookup.columns}
        carried = {name: when for name, when in times.items() if when is not None}
        right = right[lookup.by + lookup.columns].assign(**carried)
        if lookup.how == "asof":
            when = record_known(frames[lookup.source], source)
            at = when if when is not None else utc(frames[lookup.source][source.time_column])
            table = _join_asof(table, right.assign(**{KNOWN: at}), lookup)
            stamp = table.pop(f"{lookup.prefix}{KNOWN}")
        else:
            table, stamp = _join_key(table, right, lookup), None
        for column in lookup.columns:
            own = table.pop(f"{KNOWN}{column}") if f"{KNOWN}{column}" in carried else None
            known[f"{lookup.prefix}{column}"] = own if own is not None else stamp
    return table, known


def _history(
    table: pd.DataFrame, frames: dict[str, pd.DataFrame], config: RetrainConfig
) -> tuple[pd.DataFrame, dict[str, pd.Series | None]]:
    """Every configured history feature, and when the latest event each one used was known.

    The base source's events are its rows with the lookups joined (a destination's time
    zone may say when an arrival is known), labelled or not: a cancelled flight was still
    due to leave.
    """
    known: dict[str, pd.Series | None] = {}
    columns = []
    for spec in config.features.history:
        source = config.source(spec.source)
        events = table if spec.source == config.base else frames[spec.source]
        happened = event_times(events, source)
        when = known_times(events, source, spec.value) if spec.value else None
        events = events.assign(**{EVENT: happened, KNOWN: happened if when is None else when})
        keys = sorted({k for group in spec.groups for k in group})
        for key in keys:
            events[key] = events[key].astype(table[key].dtype)
        values, times = history_features(
            spec, table[[*keys, EVENT, CUTOFF]], events, config.features.timezone
        )
        columns.append(values)
        known.update(times)
    return pd.concat([table, *columns], axis=1), known


def _label(table: pd.DataFrame, config: RetrainConfig) -> pd.Series:
    """The label of each labelled row, as the target's kind defines it."""
    target = config.target
    values = table[target.column]
    if target.kind == "regression":
        label = pd.to_numeric(values, errors="coerce").astype("float64")
        if label.nunique() < 2:
            raise TargetError(f"target {target.column!r} takes one value only: nothing to learn")
        return label
    if target.kind == "binary":
        rule = values >= target.threshold if target.positive is None else values == target.positive
        label = rule.astype("int64")
    else:
        label = values.astype("string").astype("object")
    counts = label.value_counts()
    if len(counts) < 2:
        seen = values.astype("string").value_counts().head(5).to_dict()
        rule = f">= {target.threshold}" if target.positive is None else f"== {target.positive!r}"
        what = f"binary rule {target.column} {rule}" if target.kind == "binary" else target.column
        raise TargetError(
            f"the label ({what}) has a single class {counts.to_dict()} over {len(label)} rows; "
            f"values seen in {target.column}: {seen}. Check the rule (a YAML Yes without "
            "quotes is the boolean true) or the data"
        )
    return label


def _calendar(table: pd.DataFrame, config: RetrainConfig) -> pd.Series:
    """The local day of week (0 = Monday): an evening in New York is the next day in UTC."""
    column = table[config.features.day_of_week_from or ""]
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        column = column.dt.tz_convert(config.features.timezone or "UTC")
    return column.dt.day_of_week


def _check_event_time(table: pd.DataFrame, config: RetrainConfig) -> None:
    """The prediction time itself may only use what is known in advance (a timetable)."""
    base = config.source(config.base)
    if base.event_time is None:
        return
    used = [base.event_time.column or base.time_column or "", *base.event_time.add_minutes]
    late = [c for c in used if known_times(table, base, c) is not None]
    if late:
        raise LeakageError(
            f"source {base.name!r}: event_time uses {late}, which become known only later; "
            "the event time must come from the schedule"
        )


def build_training_table(frames: dict[str, pd.DataFrame], config: RetrainConfig) -> TrainingTable:
    """Join base and lookups as of the prediction time, add derived features and the label."""
    check_leakage(config)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    base = config.source(config.base)
    table = frames[config.base].sort_values(base.key, kind="stable").reset_index(drop=True)
    horizon = pd.Timedelta(hours=config.features.prediction_horizon_hours)
    known: dict[str, pd.Series | None] = {}
    if base.time_column:
        _check_event_time(table, config)
        table[EVENT] = event_times(table, base)
        table[CUTOFF] = table[EVENT] - horizon
    table, known = _lookups(table, frames, config)
    seconds["lookups"] = time.perf_counter() - started
    if config.features.history:
        table, history_known = _history(table, frames, config)
        known.update(history_known)
        seconds["history"] = time.perf_counter() - started - seconds["lookups"]
    numeric, categorical = feature_columns(config)
    for column in numeric + categorical:
        if column not in known and column in frames[config.base]:
            known[column] = known_times(table, base, column)
    if config.features.day_of_week_from:
        table["day_of_week"] = _calendar(table, config)
    if config.features.derived:
        table, known = derive(table, config.features.derived, known)
    if base.time_column:
        check_known_by(
            {k: v for k, v in known.items() if k in numeric + categorical},
            table[CUTOFF],
            table[base.key],
            config.features.prediction_horizon_hours,
        )
    labelled = table[config.target.column].notna()
    table = table[labelled].copy()
    table[config.target.name] = _label(table, config)
    for column in numeric:
        table[column] = pd.to_numeric(table[column], errors="coerce").astype("float64")
    for column in categorical:
        # object with NaN: what the encoders and an MLflow signature both understand
        table[column] = table[column].astype("object").where(table[column].notna(), np.nan)
    extra = [*config.evaluation.slices, *filter(None, [config.split.group_column])]
    keep = [*base.key, *filter(None, [base.time_column]), *numeric, *categorical, *extra]
    table = table[list(dict.fromkeys([*keep, config.target.name]))].reset_index(drop=True)
    if config.sample_fraction:
        sampled = table.sample(frac=config.sample_fraction, random_state=config.model.seed)
        table = sampled.sort_index().reset_index(drop=True)
    seconds["total"] = time.perf_counter() - started
    return TrainingTable(
        table, int((~labelled).sum()), {k: round(v, 2) for k, v in seconds.items()}
    )


@dataclass
class Split:
    """Test rows apart; training rows with their cross-validation folds.

    ``train`` is what the deployed model is fitted on; each fold is a pair of positions
    into ``train`` (fit rows, validation rows). ``periods`` names the calendar months of
    train, of the validation folds (a subset of train) and of test, or describes a random
    split.
    """

    train: pd.DataFrame
    test: pd.DataFrame
    periods: dict[str, list[str]]
    folds: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    @property
    def validation(self) -> pd.DataFrame:
        """The training rows some fold validates on."""
        if not self.folds:
            return self.train.iloc[:0]
        rows = np.unique(np.concatenate([v for _, v in self.folds]))
        return self.train.iloc[rows].reset_index(drop=True)
