"""The predict flow: ingest what landed, then the champion scores the records that are new.

Writes to the lake's predictions zone, keyed by record and model version: a second run with
nothing new writes nothing, and a new champion scores only records no version scored yet.
"""

from prefect import flow
from pydantic import BaseModel

from retrainer.domain.config import RetrainConfig
from retrainer.domain.monitoring import require_scorable
from tasks.ingest import ingest_source, read_validated
from tasks.predict import (
    build_scoring_table,
    find_champion,
    score_new_records,
    write_predictions,
)


class PredictSummary(BaseModel):
    """What a predict run wrote, as the CLI prints it (version None: no champion yet)."""

    dataset: str
    model: str
    version: str | None
    rows: int = 0
    periods: list[str] = []
    file: str | None = None


@flow(name="predict", flow_run_name="predict-{config.name}")
def predict(config: RetrainConfig) -> PredictSummary:
    """Score the newly landed records with the champion and store the predictions."""
    require_scorable(config)
    for source in config.sources:
        ingest_source(config, source.name)  # takes the lake's writer lock itself
    model = find_champion(config)
    if model is None:
        return PredictSummary(
            dataset=config.name, model=config.mlflow.registered_model, version=None
        )
    frames = read_validated(config)
    table = build_scoring_table(config, frames)
    batch = score_new_records(config, model, table)
    written = write_predictions(config, batch)
    return PredictSummary(
        dataset=config.name,
        model=model.model,
        version=model.version,
        rows=written.rows if written else 0,
        periods=written.periods if written else [],
        file=written.file if written else None,
    )
