"""Feature stage: the joined training table and its split into train (with folds) and test."""

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from retrainer.boundaries.caching import EXPIRATION, LAKE_CONTENT
from retrainer.domain.config import RetrainConfig
from retrainer.domain.features import Split, TrainingTable, build_training_table
from retrainer.domain.splits import split_rows


@task(
    name="build-features",
    cache_policy=LAKE_CONTENT,
    cache_expiration=EXPIRATION,
    persist_result=True,
)
def build_features(config: RetrainConfig, frames: dict[str, pd.DataFrame]) -> TrainingTable:
    """Join the sources as of the prediction time and derive features and label."""
    table = build_training_table(frames, config)
    get_run_logger().info(
        "training table: %d rows, %d columns in %s s; %d rows without a label left out",
        len(table.frame),
        table.frame.shape[1],
        table.build_seconds,
        table.rows_without_label,
    )
    return table


@task(name="split-data", cache_policy=NO_CACHE)
def split_data(config: RetrainConfig, table: TrainingTable) -> Split:
    """Hold out the test rows (the latest months for a time split); folds inside the rest."""
    split = split_rows(table.frame, config)
    get_run_logger().info(
        "split (%s): train %s (%d rows; %d folds validating %s), test %s (%d rows)",
        config.split.kind,
        split.periods["train"],
        len(split.train),
        len(split.folds),
        split.periods["validation"],
        split.periods["test"],
        len(split.test),
    )
    return split
