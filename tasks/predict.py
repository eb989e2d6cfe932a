"""Prediction stage: the model in service scores new records into the lake's predictions zone."""

from datetime import UTC, datetime

import pandas as pd
from prefect import get_run_logger, runtime, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from retrainer.boundaries import in_service
from retrainer.boundaries.predictions import BatchRecord, PredictionStore
from retrainer.boundaries.prefect_api import PREDICTED as PREDICTED_EVENT
from retrainer.boundaries.prefect_api import emit_dataset_event
from retrainer.boundaries.settings import home
from retrainer.domain.config import RetrainConfig
from retrainer.domain.scoring import (
    PERIOD,
    PREDICTED,
    PROBABILITY,
    ModelInService,
    PredictionBatch,
    score_records,
    scoring_table,
    to_score,
)


def _describe(config: RetrainConfig, version: str | None) -> ModelInService:
    model = in_service.describe(config, home().mlflow_uri, version)
    get_run_logger().info(
        "%s v%s, trained on %s, threshold %.3f",
        model.model,
        model.version,
        ",".join(model.trained_on),
        model.threshold,
    )
    return model


@task(name="load-model-in-service", cache_policy=NO_CACHE)
def load_model_in_service(config: RetrainConfig, version: str | None = None) -> ModelInService:
    """The champion (or ``version``): threshold, training months and test metrics."""
    return _describe(config, version)


@task(name="find-champion", cache_policy=NO_CACHE)
def find_champion(config: RetrainConfig) -> ModelInService | None:
    """The champion, or None (with a warning) while there is none: nothing to score with."""
    try:
        return _describe(config, None)
    except in_service.NoChampionError as exc:
        get_run_logger().warning("nothing scored: %s", exc)
        return None


@task(name="build-scoring-table", cache_policy=NO_CACHE)
def build_scoring_table(config: RetrainConfig, frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Features of every base record, built by the training table's code; labels where known."""
    table = scoring_table(frames, config)
    unlabelled = int(table[config.target.name].isna().sum())
    get_run_logger().info("%d records, %d without a label yet", len(table), unlabelled)
    return table


@task(name="score-new-records", cache_policy=NO_CACHE)
def score_new_records(
    config: RetrainConfig, model: ModelInService, table: pd.DataFrame
) -> PredictionBatch:
    """Score the records no version has scored yet and that the model did not learn from."""
    keys = config.source(config.base).key
    fresh = to_score(table, PredictionStore(home(), config.name).read(columns=keys), keys, model)
    pipeline = in_service.load(model) if len(fresh) else None
    batch = score_records(config, model, pipeline, fresh, datetime.now(UTC))
    get_run_logger().info(
        "%d new records to score with v%s (of %d)", len(fresh), model.version, len(table)
    )
    return batch


@task(name="write-predictions", cache_policy=NO_CACHE)
def write_predictions(config: RetrainConfig, batch: PredictionBatch) -> BatchRecord | None:
    """Commit the batch to the predictions zone; announce each period it covers."""
    keys = config.source(config.base).key
    store = PredictionStore(home(), config.name)
    record = store.write(batch, keys, str(runtime.flow_run.id or ""))
    if record is None:
        get_run_logger().info("nothing new to predict: the predictions zone is unchanged")
        return None
    rows = batch.rows
    create_table_artifact(
        key=f"predictions-{config.name}",
        table=[
            {
                "period": period,
                "records": len(part),
                "mean probability": round(float(part[PROBABILITY].mean()), 4),
                f"predicted {config.target.name}": int(part[PREDICTED].sum()),
            }
            for period, part in rows.groupby(PERIOD, sort=True)
        ],
        description=f"v{record.version} scored {record.rows} records: {store.root / record.file}",
    )
    for period in record.periods:
        emit_dataset_event(
            PREDICTED_EVENT, config.name, {"period": period, "version": record.version}
        )
    get_run_logger().info("wrote %d predictions to %s", record.rows, store.root / record.file)
    return record
