"""Registry stage: score the champion, gate promotion, record why, move the aliases."""

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from retrainer.boundaries import tracking
from retrainer.boundaries.champion import ChampionScore
from retrainer.boundaries.champion import score_champion as score
from retrainer.boundaries.settings import home
from retrainer.domain.approval import Verdict, review
from retrainer.domain.config import RetrainConfig
from retrainer.domain.evaluation import Evaluation
from retrainer.domain.features import Split
from retrainer.domain.naming import mlflow_run_name
from retrainer.domain.promotion import Decision, decide
from retrainer.domain.records import LoggedModel
from retrainer.domain.reports import decision_markdown


@task(name="score-champion", cache_policy=NO_CACHE)
def score_champion(config: RetrainConfig, split: Split) -> ChampionScore:
    """The current champion's version and its metrics on this run's test rows."""
    champion = score(config, split, home().mlflow_uri)
    if champion.problem:
        get_run_logger().warning(champion.problem)
    return champion


@task(name="promotion-gate", cache_policy=NO_CACHE)
def promotion_gate(
    config: RetrainConfig, logged: LoggedModel, evaluation: Evaluation, champion: ChampionScore
) -> Decision:
    """Decide whether the new version may become champion; record why, in MLflow and Prefect."""
    metric = config.promotion.metric
    champion_metric = None if champion.metrics is None else champion.metrics[metric]
    decision = decide(
        evaluation.metrics[metric], champion_metric, champion.version, config.promotion
    )
    record_decision(config, logged, decision)
    return decision


def record_decision(config: RetrainConfig, logged: LoggedModel, decision: Decision) -> None:
    """The decision and its reason as MLflow tags and a Prefect markdown artifact."""
    name = mlflow_run_name(logged.run_name, logged.version, decision.decision)
    tracking.record_decision(logged.model, logged.version, logged.run_id, decision.as_dict(), name)
    create_markdown_artifact(
        key=f"promotion-{config.name}",
        markdown=decision_markdown(logged, decision),
        description="Promotion decision",
    )


@task(name="apply-review", cache_policy=NO_CACHE)
def apply_review(
    config: RetrainConfig, logged: LoggedModel, decision: Decision, verdict: Verdict
) -> Decision:
    """Gate: with approval required, promote only what a reviewer approved in time."""
    tracking.connect(home().mlflow_uri)
    champion_now = tracking.alias_version(logged.model, tracking.CHAMPION)
    reviewed = review(decision, verdict, champion_now)
    get_run_logger().info("after review: %s (%s)", reviewed.decision, reviewed.reason)
    record_decision(config, logged, reviewed)
    return reviewed


@task(name="move-aliases", cache_policy=NO_CACHE)
def move_aliases(config: RetrainConfig, logged: LoggedModel, decision: Decision) -> str:
    """Promoted: ``champion`` moves to the new version. Otherwise it becomes ``challenger``."""
    tracking.connect(home().mlflow_uri)
    alias = tracking.CHAMPION if decision.promote else tracking.CHALLENGER
    tracking.set_alias(logged.model, alias, logged.version)
    get_run_logger().info("%s v%s is now %s", logged.model, logged.version, alias)
    return alias
