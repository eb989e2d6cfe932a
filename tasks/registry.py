"""Registry stage: gate the promotion, then move the aliases and record why, all or nothing.

``move-aliases`` and ``record-decision`` run inside one Prefect transaction, under the
model's registry lock (see ``flows/retrain.py``): if recording fails, the transaction rolls
back and ``move-aliases``' rollback hook puts the alias back, so no tag or history entry
ever claims a move the registry does not show, and no move goes unrecorded.
"""

from dataclasses import dataclass

from prefect import get_run_logger, runtime, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.transactions import Transaction, get_transaction

from retrainer.boundaries import aliases, tracking
from retrainer.boundaries.champion import ScoredChampion
from retrainer.boundaries.settings import home
from retrainer.domain.approval import Verdict, review
from retrainer.domain.config import RetrainConfig
from retrainer.domain.evaluation import Evaluation
from retrainer.domain.history import AliasMove
from retrainer.domain.naming import mlflow_run_name
from retrainer.domain.promotion import Decision, decide, decision_tags, settle
from retrainer.domain.records import LoggedModel
from retrainer.domain.reports import decision_markdown

RETRAIN = "retrain"


@dataclass(frozen=True)
class Commit:
    """The decision as it stood at the alias move, and the move itself."""

    decision: Decision
    move: AliasMove


@task(name="promotion-gate", cache_policy=NO_CACHE)
def promotion_gate(
    config: RetrainConfig, evaluation: Evaluation, champion: ScoredChampion
) -> Decision:
    """Decide whether the new version may become champion: gain, significance, slices."""
    metric = config.promotion.metric
    decision = decide(evaluation.metrics[metric], champion.evidence, config.promotion)
    get_run_logger().info("gate: %s (%s)", decision.decision, decision.reason)
    return decision


@task(name="apply-review", cache_policy=NO_CACHE)
def apply_review(logged: LoggedModel, decision: Decision, verdict: Verdict) -> Decision:
    """Gate: with approval required, promote only what a reviewer approved in time."""
    tracking.connect(home().mlflow_uri)
    champion_now = tracking.alias_version(logged.model, tracking.CHAMPION)
    reviewed = review(decision, verdict, champion_now)
    get_run_logger().info("after review: %s (%s)", reviewed.decision, reviewed.reason)
    return reviewed


@task(name="move-aliases", cache_policy=NO_CACHE)
def move_aliases(logged: LoggedModel, decision: Decision, run_name: str) -> Commit:
    """Compare and set: ``champion`` moves only if it is still the version the gate scored.

    Otherwise (or when not promoted) the new version becomes ``challenger``.
    """
    tracking.connect(home().mlflow_uri)
    settled = settle(decision, tracking.alias_version(logged.model, tracking.CHAMPION))
    alias = tracking.CHAMPION if settled.promote else tracking.CHALLENGER
    by = f"retrain run {run_name}"
    if settled.approved_by:
        by = f"{settled.approved_by} (approved) for {by}"
    move = aliases.move_alias(
        logged.model,
        alias,
        logged.version,
        action=RETRAIN,
        reason=settled.reason,
        by=by,
        run=str(runtime.flow_run.id or logged.run_id),
    )
    transaction = get_transaction()
    if transaction is not None:
        transaction.set("undo", (logged.model, move))
    get_run_logger().info("%s v%s is now %s", logged.model, logged.version, alias)
    return Commit(settled, move)


@move_aliases.on_rollback
def _put_alias_back(transaction: Transaction) -> None:
    """The decision could not be recorded: the alias goes back to where it was."""
    model, move = transaction.get("undo")
    aliases.restore(model, move)
    why = "not applied: recording the decision failed, the alias move was undone"
    tracking.set_tags(model, move.to_version, None, {"promotion.decision": why})


@task(name="record-decision", cache_policy=NO_CACHE)
def record_decision(config: RetrainConfig, logged: LoggedModel, commit: Commit) -> Decision:
    """The decision on the version and its run, the move in the model's history, an artifact."""
    tracking.connect(home().mlflow_uri)
    decision = commit.decision
    tracking.record_decision(
        logged.model,
        logged.version,
        logged.run_id,
        decision.as_dict(),
        decision_tags(decision),
        mlflow_run_name(logged.run_name, logged.version, decision.decision),
    )
    aliases.record_move(logged.model, commit.move)
    create_markdown_artifact(
        key=f"promotion-{config.name}",
        markdown=decision_markdown(logged, decision),
        description="Promotion decision",
    )
    return decision
