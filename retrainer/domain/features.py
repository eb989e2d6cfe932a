"""The training table: join the sources, derive features and the label, guard against leakage.

Pure functions on DataFrames: no I/O, testable on tiny frames.
"""

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from retrainer.domain.config import Lookup, RetrainConfig

CUTOFF = "_prediction_time"


class LeakageError(ValueError):
    """A feature would use information that is known only after the prediction time."""


@dataclass
class TrainingTable:
    """Rows with features and label, plus what was left out and why."""

    frame: pd.DataFrame
    rows_without_label: int


def feature_columns(config: RetrainConfig) -> tuple[list[str], list[str]]:
    """Numeric and categorical feature names, after joins and derivations."""
    numeric = list(config.features.numeric)
    if config.features.day_of_week_from:
        numeric.append("day_of_week")
    return numeric, list(config.features.categorical)


def model_inputs(config: RetrainConfig, frame: pd.DataFrame) -> pd.DataFrame:
    """The feature columns a model sees, in order (plus the label when present)."""
    numeric, categorical = feature_columns(config)
    label = [config.target.name] if config.target.name in frame else []
    return frame[numeric + categorical + label]


def predict(config: RetrainConfig, model, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Labels and predicted probabilities of any fitted model on labelled rows."""
    rows = model_inputs(config, frame)
    label = config.target.name
    return rows[label].to_numpy(), model.predict_proba(rows.drop(columns=[label]))[:, 1]


def content_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of a frame's values and column names: the training data's identity."""
    digest = hashlib.sha256(",".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def check_leakage(config: RetrainConfig) -> None:
    """Reject any feature known only after the prediction time (or the target itself)."""
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
    right = right[lookup.by + lookup.columns].drop_duplicates(subset=lookup.by)
    renamed = right.rename(columns={c: f"{lookup.prefix}{c}" for c in lookup.columns})
    return table.merge(renamed, on=lookup.by, how="left", validate="many_to_one")


def _join_asof(
    table: pd.DataFrame, right: pd.DataFrame, lookup: Lookup, right_time: str
) -> pd.DataFrame:
    """Attach the latest reading observed at or before each row's prediction time."""
    stamp = f"{lookup.prefix}observed_at"
    right = right[[*lookup.by, right_time, *lookup.columns]].rename(
        columns={right_time: stamp, **{c: f"{lookup.prefix}{c}" for c in lookup.columns}}
    )
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
        tolerance=pd.Timedelta(hours=lookup.tolerance_hours),
    )
    late = joined[stamp] > joined[CUTOFF]
    if late.any():
        raise LeakageError(f"{lookup.source}: {int(late.sum())} readings after the prediction time")
    return joined.sort_values("_order").drop(columns=["_order", stamp]).reset_index(drop=True)


def build_training_table(frames: dict[str, pd.DataFrame], config: RetrainConfig) -> TrainingTable:
    """Join base and lookups as of the prediction time, add derived features and the label."""
    check_leakage(config)
    base = config.source(config.base)
    time_column = base.time_column or ""
    table = frames[config.base].sort_values(base.key, kind="stable").reset_index(drop=True)
    horizon = pd.Timedelta(hours=config.features.prediction_horizon_hours)
    table[CUTOFF] = table[time_column] - horizon
    for lookup in config.lookups:
        right = frames[lookup.source]
        if lookup.how == "key":
            table = _join_key(table, right, lookup)
        else:
            right_time = config.source(lookup.source).time_column or ""
            table = _join_asof(table, right, lookup, right_time)
    if config.features.day_of_week_from:
        table["day_of_week"] = table[config.features.day_of_week_from].dt.day_of_week
    target = table[config.target.column]
    labelled = target.notna()
    table = table[labelled].copy()
    table[config.target.name] = (target[labelled] >= config.target.threshold).astype("int64")
    numeric, categorical = feature_columns(config)
    for column in numeric:
        table[column] = pd.to_numeric(table[column], errors="coerce").astype("float64")
    for column in categorical:
        # object with NaN: what the encoders and an MLflow signature both understand
        table[column] = table[column].astype("object").where(table[column].notna(), np.nan)
    keep = [*base.key, time_column, *numeric, *categorical, config.target.name]
    table = table[list(dict.fromkeys(keep))].reset_index(drop=True)
    if config.sample_fraction:
        sampled = table.sample(frac=config.sample_fraction, random_state=config.model.seed)
        table = sampled.sort_index().reset_index(drop=True)
    return TrainingTable(frame=table, rows_without_label=int((~labelled).sum()))


@dataclass
class Split:
    """Train, validation and test rows, split by time."""

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    periods: dict[str, list[str]]


class SplitError(ValueError):
    """Not enough data over time for the configured split."""


def time_split(table: pd.DataFrame, config: RetrainConfig) -> Split:
    """Last ``test_months`` months are test, the ``validation_months`` before are validation."""
    time_column = config.source(config.base).time_column or ""
    month = table[time_column].dt.tz_convert(config.split.timezone).dt.strftime("%Y-%m")
    months = sorted(month.unique())
    need = config.split.test_months + config.split.validation_months + 1
    if len(months) < need:
        raise SplitError(
            f"the data covers {len(months)} month(s) {months}, the split needs at least {need} "
            f"(train + {config.split.validation_months} validation + {config.split.test_months} "
            "test); land more data or reduce split.test_months"
        )
    test = months[-config.split.test_months :]
    validation = months[-need + 1 : -config.split.test_months]
    train = months[: -need + 1]
    parts = {
        name: table[month.isin(chosen)].reset_index(drop=True)
        for name, chosen in (("train", train), ("validation", validation), ("test", test))
    }
    if len(parts["train"]) < config.split.min_train_rows:
        raise SplitError(
            f"only {len(parts['train'])} training rows (min_train_rows is "
            f"{config.split.min_train_rows})"
        )
    return Split(**parts, periods={"train": train, "validation": validation, "test": test})
