"""Batch scoring: which records to score, their features, and the prediction rows written.

The features come from the training table's own code (``build_training_table``), so a model
sees in service exactly what it saw in training. Records are scored whether or not their
outcome is known: the label is never an input (the leakage guard refuses it as a feature),
and it arrives later, when monitoring joins it by key.
"""

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from retrainer.domain.availability import event_times
from retrainer.domain.config import RetrainConfig
from retrainer.domain.features import (
    CUTOFF,
    build_training_table,
    content_hash,
    feature_columns,
)

PROBABILITY = "probability"
PREDICTED = "predicted"
VERSION = "model_version"
MODEL = "model"
THRESHOLD = "threshold"
SCORED_AT = "scored_at"
PREDICTION_TIME = "prediction_time"
INPUT_HASH = "input_hash"
PERIOD = "period"


@dataclass(frozen=True)
class ModelInService:
    """A registered model version as scoring and monitoring need it."""

    model: str
    version: str
    threshold: float
    trained_on: list[str]  # the months it learnt from (train and validation)
    test_months: list[str]
    test_metrics: dict[str, float]


def scoring_table(frames: dict[str, pd.DataFrame], config: RetrainConfig) -> pd.DataFrame:
    """Features of every base record, labelled or not; the label column is NaN where unknown.

    ``build_training_table`` keeps only records with a known outcome. A record whose outcome
    is not known yet gets a stand-in value so it is kept, and its label is blanked again
    right after: no feature reads the target, so the stand-in cannot reach a model.
    """
    target = config.target.column
    source = config.source(config.base)
    base = frames[config.base]
    unknown = base[target].isna()
    stand_in = base.assign(**{target: base[target].fillna(_stand_in(base[target], config))})
    whole = config.model_copy(update={"sample_fraction": None})
    table = build_training_table({**frames, config.base: stand_in}, whole).frame
    keys = source.key
    unknown_keys = base.loc[unknown, keys]
    if len(unknown_keys):
        blank = table.merge(unknown_keys, on=keys, how="left", indicator=True)["_merge"]
        table[config.target.name] = table[config.target.name].astype("float64")
        table.loc[(blank == "both").to_numpy(), config.target.name] = np.nan
    # The prediction time is the features' cutoff: the scheduled event time (to the
    # minute, as the source declares it) minus the horizon.
    horizon = pd.Timedelta(hours=config.features.prediction_horizon_hours)
    events = base[keys].assign(**{CUTOFF: event_times(base, source) - horizon})
    table = table.merge(events.drop_duplicates(subset=keys), on=keys, how="left").copy()
    time_column = source.time_column or ""
    table[PERIOD] = period_of(table[time_column], config.split.timezone)
    return table


def _stand_in(target: pd.Series, config: RetrainConfig):
    """A valid value of the target column for records whose outcome is not known yet."""
    if config.target.threshold is not None:
        return config.target.threshold
    if config.target.positive is not None:
        return config.target.positive
    known = target.dropna()
    return known.iloc[0] if len(known) else 0


def period_of(times: pd.Series, timezone: str) -> pd.Series:
    """``YYYY-MM`` in the split's time zone: the calendar months training and reports use."""
    return times.dt.tz_convert(timezone).dt.strftime("%Y-%m")


def to_score(table: pd.DataFrame, scored: pd.DataFrame, keys: list[str], model: ModelInService):
    """Records no model has scored yet, newer than what ``model`` learnt from.

    A record already scored (by any version) is not scored again, so a new champion scores
    only what is new; a record from the months the model was trained on is history, not a
    prediction.
    """
    fresh = ~table[PERIOD].isin(model.trained_on)
    if len(scored):
        seen = table[keys].merge(scored[keys].drop_duplicates(), how="left", indicator=True)
        fresh &= (seen["_merge"] == "left_only").to_numpy()
    return table[fresh].reset_index(drop=True)


def row_hashes(features: pd.DataFrame) -> pd.Series:
    """A 64-bit hash of each row's model inputs, as 16 hex digits."""
    hashed = pd.util.hash_pandas_object(features, index=False).to_numpy()
    return pd.Series([f"{h:016x}" for h in hashed], index=features.index)


@dataclass
class PredictionBatch:
    """Prediction rows of one scoring run and the SHA-256 of all their inputs."""

    rows: pd.DataFrame
    input_sha256: str

    @property
    def periods(self) -> list[str]:
        """The periods (months) the batch has predictions for."""
        return sorted(self.rows[PERIOD].unique()) if len(self.rows) else []


def score_records(
    config: RetrainConfig,
    model: ModelInService,
    pipeline,
    table: pd.DataFrame,
    scored_at: datetime,
) -> PredictionBatch:
    """Score ``table``'s records: one prediction row each, keyed by record and model version."""
    numeric, categorical = feature_columns(config)
    inputs = table[numeric + categorical]
    keys = config.source(config.base).key
    time_column = config.source(config.base).time_column or ""
    proba = pipeline.predict_proba(inputs)[:, 1] if len(inputs) else np.array([])
    rows = table[list(dict.fromkeys([*keys, time_column]))].copy()
    rows[PERIOD] = table[PERIOD]
    rows[PREDICTION_TIME] = table[CUTOFF]
    rows[MODEL] = model.model
    rows[VERSION] = model.version
    rows[PROBABILITY] = proba
    rows[PREDICTED] = (proba >= model.threshold).astype("int64")
    rows[THRESHOLD] = model.threshold
    rows[SCORED_AT] = pd.Timestamp(scored_at)
    rows[INPUT_HASH] = row_hashes(inputs)
    return PredictionBatch(rows.reset_index(drop=True), content_hash(inputs))
