"""The retrain flow: ingest -> validate -> features -> split -> train -> evaluate -> register."""

from prefect import flow
from pydantic import BaseModel

from flows.approval import approve_promotion
from retrainer.boundaries.prefect_api import lake_writer
from retrainer.domain.config import RetrainConfig
from tasks.audit import audit_data
from tasks.evaluate import evaluate_model
from tasks.features import build_features, split_data
from tasks.ingest import ingest_source, read_validated
from tasks.naming import name_run
from tasks.registry import apply_review, move_aliases, promotion_gate, score_champion
from tasks.track import log_to_mlflow
from tasks.train import train_model
from tasks.validate import validate_training_table


class RetrainSummary(BaseModel):
    """What a retrain run did, as the CLI prints it."""

    dataset: str
    run_id: str
    model: str
    version: str
    alias: str
    decision: str
    reason: str
    metrics: dict[str, float]
    periods: dict[str, list[str]]
    ingested: dict[str, list[dict]]


@flow(name="retrain", flow_run_name="retrain-{config.name}", log_prints=True)
def retrain(config: RetrainConfig) -> RetrainSummary:
    """Retrain one data set's model and promote it only if it beats the champion."""
    with lake_writer(config.name):
        ingested = {s.name: ingest_source(config, s.name) for s in config.sources}
    frames = read_validated(config)
    audit = audit_data(config, frames)
    run_name = name_run(config, frames)
    table = build_features(config, frames)
    validation = validate_training_table(config, table)
    split = split_data(config, table)
    trained = train_model(config, split)
    evaluation = evaluate_model(config, trained, split)
    data_reports = {"ingested": ingested, "audit": audit, "training_validation": validation}
    logged = log_to_mlflow(config, table, split, trained, evaluation, data_reports, run_name)
    champion = score_champion(config, split)
    decision = promotion_gate(config, logged, evaluation, champion)
    if decision.promote and config.promotion.require_approval:
        verdict = approve_promotion(
            config.mlflow.registered_model,
            logged.version,
            decision.reason,
            config.promotion.approval_timeout_seconds,
        )
        decision = apply_review(config, logged, decision, verdict)
    alias = move_aliases(config, logged, decision)
    return RetrainSummary(
        dataset=config.name,
        run_id=logged.run_id,
        model=config.mlflow.registered_model,
        version=logged.version,
        alias=alias,
        decision=decision.decision,
        reason=decision.reason,
        metrics=evaluation.metrics,
        periods=split.periods,
        ingested=ingested,
    )
