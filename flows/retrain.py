"""The retrain flow: ingest -> validate -> features -> split -> train -> evaluate -> register
-> compare with the champion -> gate -> move the aliases."""

from prefect import flow
from prefect.transactions import transaction
from pydantic import BaseModel

from flows.approval import approve_promotion
from retrainer.boundaries.aliases import registry_lock
from retrainer.domain.config import RetrainConfig
from retrainer.domain.fingerprint import Unchanged
from retrainer.domain.overrides import RunChoices
from retrainer.domain.promotion import NO_CHANGE
from tasks.audit import audit_data
from tasks.champion import check_unchanged, score_champion
from tasks.check import check_config
from tasks.evaluate import evaluate_model
from tasks.explain import explain_and_card
from tasks.features import build_features, split_data
from tasks.ingest import check_deliveries, ingest_source, read_validated
from tasks.naming import name_run
from tasks.recovery import check_services, repair_interrupted_runs
from tasks.registry import apply_review, move_aliases, promotion_gate, record_decision
from tasks.summary import publish_summary
from tasks.track import log_to_mlflow
from tasks.train import train_model
from tasks.trigger import record_trigger
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
    promotion: dict | None = None  # the whole decision: gain, interval, p-value, slices


@flow(name="retrain", flow_run_name="retrain-{config.name}", log_prints=True)
def retrain(
    config: RetrainConfig,
    choices: RunChoices = RunChoices(),
    force: bool = False,
    trigger: str | None = None,
) -> RetrainSummary:
    """Retrain one data set's model; promote it only if it really beats the champion.

    Nothing is trained or registered when the data and the training config are those of a
    version already judged against the champion, unless ``force``.

    Args:
        config: The data set's whole config (its file under configs/).
        choices: The common choices for this run (model family, hyperparameters, test
            months, approval); each one left empty keeps the config's value.
        force: Train and register even when nothing changed since the champion.
        trigger: What started the run (``drift:<event id>`` from the alarm automation);
            by default found out (an automation's name, ``schedule`` or ``manual``). Tagged
            on the MLflow run and the version.
    """
    config = check_config(config, choices)
    check_services(config)
    repair_interrupted_runs(config)
    ingested = {s.name: ingest_source(config, s.name) for s in config.sources}
    check_deliveries(config, ingested)
    frames = read_validated(config)
    audit = audit_data(config, frames)
    run_name = name_run(config, frames)
    table = build_features(config, frames)
    validation = validate_training_table(config, table)
    split = split_data(config, table)
    unchanged = check_unchanged(config, table, force)
    if unchanged is not None:
        return _unchanged_summary(config, unchanged, split.periods, ingested)
    trained = train_model(config, split)
    evaluation = evaluate_model(config, trained, split)
    data_reports = {"ingested": ingested, "audit": audit, "training_validation": validation}
    logged = log_to_mlflow(config, table, split, trained, evaluation, data_reports, run_name)
    record_trigger(config, logged, trigger)
    champion = score_champion(config, frames, split, trained, evaluation, logged)
    explain_and_card(config, frames, table, split, trained, logged, champion)
    decision = promotion_gate(config, evaluation, champion)
    if decision.promote and config.promotion.require_approval:
        verdict = approve_promotion(
            config.mlflow.registered_model,
            logged.version,
            decision.reason,
            config.promotion.approval_timeout_seconds,
        )
        decision = apply_review(logged, decision, verdict)
    # Compare-and-set of the alias, then the record; a failed record undoes the move.
    with registry_lock(config.mlflow.registered_model), transaction():
        commit = move_aliases(logged, decision, run_name)
        decision = record_decision(config, logged, commit)
    publish_summary(
        config,
        logged,
        decision,
        commit.move.alias,
        evaluation,
        champion,
        split,
        table,
        ingested,
        validation,
    )
    return RetrainSummary(
        dataset=config.name,
        run_id=logged.run_id,
        model=config.mlflow.registered_model,
        version=logged.version,
        alias=commit.move.alias,
        decision=decision.decision,
        reason=decision.reason,
        metrics=evaluation.metrics,
        periods=split.periods,
        ingested=ingested,
        promotion=decision.as_dict(),
    )


def _unchanged_summary(
    config: RetrainConfig, unchanged: Unchanged, periods: dict, ingested: dict
) -> RetrainSummary:
    return RetrainSummary(
        dataset=config.name,
        run_id=unchanged.past.run_id,
        model=config.mlflow.registered_model,
        version=unchanged.past.version,
        alias=unchanged.alias,
        decision=NO_CHANGE,
        reason=unchanged.reason,
        metrics=unchanged.metrics,
        periods=periods,
        ingested=ingested,
    )
