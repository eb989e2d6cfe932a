"""Feature stage: the joined training table and its time-based split."""

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from retrainer.boundaries.caching import EXPIRATION, LAKE_CONTENT
from retrainer.domain.config import RetrainConfig
from retrainer.domain.features import Split, TrainingTable, build_training_table, time_split


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
        "training table: %d rows, %d columns; %d rows without a label left out",
        len(table.frame),
        table.frame.shape[1],
        table.rows_without_label,
    )
    return table


@task(name="split-by-time", cache_policy=NO_CACHE)
def split_by_time(config: RetrainConfig, table: TrainingTable) -> Split:
    """Train on the past, validate on the month after, test on the latest months."""
    split = time_split(table.frame, config)
    get_run_logger().info(
        "split: train %s (%d rows), validation %s (%d), test %s (%d)",
        split.periods["train"],
        len(split.train),
        split.periods["validation"],
        len(split.validation),
        split.periods["test"],
        len(split.test),
    )
    return split
