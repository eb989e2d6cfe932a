"""Batch scoring: the scoring table, which records are new, the rows written, the store."""

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from retrainer.boundaries.predictions import PredictionStore
from retrainer.boundaries.settings import Home
from retrainer.domain.config import RetrainConfig
from retrainer.domain.features import build_training_table
from retrainer.domain.scoring import (
    INPUT_HASH,
    PERIOD,
    PROBABILITY,
    VERSION,
    ModelInService,
    score_records,
    scoring_table,
    to_score,
)
from tests.unit.test_features import frames

KEYS = ["year", "month", "day", "carrier", "flight", "origin"]


class Constant:
    """A stand-in model: the same probability for every row, and it records its inputs."""

    def __init__(self, p: float) -> None:
        self.p, self.seen = p, None

    def predict_proba(self, x: pd.DataFrame) -> np.ndarray:
        self.seen = x
        return np.column_stack([np.full(len(x), 1 - self.p), np.full(len(x), self.p)])


def model(version: str = "1", trained_on: tuple[str, ...] = ()) -> ModelInService:
    return ModelInService("m", version, 0.5, list(trained_on), [], {"roc_auc": 0.7})


def test_the_scoring_table_keeps_records_without_a_label_and_matches_training_features(
    flights_config: RetrainConfig,
):
    table = scoring_table(frames(), flights_config)
    training = build_training_table(frames(), flights_config).frame

    label = table.set_index("flight")["delayed"]
    assert len(table) == 4  # the cancelled flight, with no arrival delay, is scored too
    assert label[1] == 1.0 and label[2] == 0.0 and label[3] == 0.0 and np.isnan(label[4])
    labelled = table[table["delayed"].notna()][training.columns]
    same = labelled.astype(training.dtypes.to_dict()).reset_index(drop=True)
    pd.testing.assert_frame_equal(same, training)
    assert table[PERIOD].tolist() == ["2013-01"] * 4


def test_a_sampling_config_still_scores_every_record(flights_config: RetrainConfig):
    flights_config.sample_fraction = 0.3
    assert len(scoring_table(frames(), flights_config)) == 4


def test_new_records_exclude_the_training_months_and_what_any_version_scored(
    flights_config: RetrainConfig,
):
    table = scoring_table(frames(), flights_config)
    assert to_score(table, pd.DataFrame(), KEYS, model(trained_on=("2013-01",))).empty
    scored = table[table["flight"] == 1][KEYS].assign(**{VERSION: "0"})

    fresh = to_score(table, scored, KEYS, model())

    assert sorted(fresh["flight"]) == [2, 3, 4]


def test_prediction_rows_never_show_the_model_the_label(flights_config: RetrainConfig):
    table = scoring_table(frames(), flights_config)
    pipeline = Constant(0.7)

    batch = score_records(flights_config, model("4"), pipeline, table, datetime.now(UTC))

    assert "delayed" not in pipeline.seen and "arr_delay" not in pipeline.seen
    rows = batch.rows
    assert rows[VERSION].unique().tolist() == ["4"] and rows["predicted"].tolist() == [1] * 4
    assert rows[PROBABILITY].tolist() == [0.7] * 4
    # two hours before the scheduled minute (time_hour is the scheduled hour)
    minute = rows.merge(frames()["flights"][[*KEYS, "minute"]], on=KEYS)["minute"]
    departure = rows["time_hour"] + pd.to_timedelta(minute.to_numpy(), unit="min")
    assert (rows["prediction_time"] == departure - pd.Timedelta(hours=2)).all()
    assert rows[INPUT_HASH].str.len().eq(16).all() and rows[INPUT_HASH].nunique() == 4
    assert batch.periods == ["2013-01"] and len(batch.input_sha256) == 64


def test_the_store_writes_a_record_once_per_version(tmp_path, flights_config: RetrainConfig):
    store = PredictionStore(Home(tmp_path), "flights")
    table = scoring_table(frames(), flights_config)
    now = datetime.now(UTC)
    first = score_records(flights_config, model("1"), Constant(0.2), table, now)

    written = store.write(first, KEYS, "run-1")
    files = sorted(p.name for p in store.root.rglob("*"))

    assert written.rows == 4 and written.version == "1" and written.periods == ["2013-01"]
    assert store.write(first, KEYS, "run-2") is None  # a re-run writes nothing
    assert sorted(p.name for p in store.root.rglob("*")) == files
    again = score_records(flights_config, model("1"), Constant(0.2), table.iloc[1:], now)
    assert store.write(again, KEYS, "run-3") is None
    other = score_records(flights_config, model("2"), Constant(0.9), table.iloc[:1], now)
    assert store.write(other, KEYS, "run-4").rows == 1
    held = store.read()
    assert len(held) == 5 and sorted(held[VERSION].unique()) == ["1", "2"]
    assert [b.flow_run_id for b in store.batches()] == ["run-1", "run-4"]
    assert len(store.read(version="2")) == 1


def test_an_empty_store_reads_as_an_empty_frame(tmp_path):
    store = PredictionStore(Home(tmp_path), "flights")
    assert store.read(columns=KEYS).columns.tolist() == KEYS
    assert store.read().empty and store.batches() == []
