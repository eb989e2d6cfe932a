"""Champion stage: has anything changed since it, and how does the new model compare with it?"""

import pandas as pd
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from retrainer.boundaries import tracking
from retrainer.boundaries.champion import ChampionUnavailable, ScoredChampion, find_unchanged
from retrainer.boundaries.champion import score_champion as score
from retrainer.boundaries.settings import home
from retrainer.domain.config import RetrainConfig
from retrainer.domain.evaluation import Evaluation
from retrainer.domain.features import Split, TrainingTable, content_hash
from retrainer.domain.fingerprint import Fingerprint, Unchanged, training_config_hash
from retrainer.domain.promotion import decision_tags, unavailable
from retrainer.domain.records import LoggedModel
from retrainer.domain.reports import decision_markdown, no_change_markdown
from retrainer.domain.training import TrainedModel


@task(name="check-unchanged", cache_policy=NO_CACHE)
def check_unchanged(config: RetrainConfig, table: TrainingTable, force: bool) -> Unchanged | None:
    """Nothing twice: the version that already trained on this data with this config, if any."""
    tracking.connect(home().mlflow_uri)
    fingerprint = Fingerprint(content_hash(table.frame), training_config_hash(config))
    found = find_unchanged(config.mlflow.registered_model, fingerprint)
    if found is None:
        return None
    if force:
        get_run_logger().info("retraining although nothing changed (force): %s", found.reason)
        return None
    get_run_logger().info(found.reason)
    create_markdown_artifact(
        key=f"promotion-{config.name}",
        markdown=no_change_markdown(config.mlflow.registered_model, found),
        description="Promotion decision",
    )
    return found


@task(name="score-champion", cache_policy=NO_CACHE)
def score_champion(
    config: RetrainConfig,
    frames: dict[str, pd.DataFrame],
    split: Split,
    trained: TrainedModel,
    evaluation: Evaluation,
    logged: LoggedModel,
) -> ScoredChampion:
    """The champion, scored like with like on this run's test rows, compared with the new model.

    A champion that exists but cannot be looked up, loaded or scored stops the run: the new
    version gets the decision "not compared" with the reason, and no alias moves.
    """
    tracking.connect(home().mlflow_uri)
    try:
        scored = score(config, frames, split, trained.pipeline, trained.threshold)
    except Exception as exc:  # whatever stops the comparison, the new version gets a decision
        known = isinstance(exc, ChampionUnavailable | tracking.RegistryError)
        why = str(exc) if known else f"{type(exc).__name__}: {exc}"
        version = getattr(exc, "version", None)
        metric = config.promotion.metric
        decision = unavailable(evaluation.metrics[metric], version, why, metric)
        tracking.record_decision(
            logged.model, logged.version, logged.run_id, decision.as_dict(), decision_tags(decision)
        )
        create_markdown_artifact(
            key=f"promotion-{config.name}",
            markdown=decision_markdown(logged, decision),
            description="Promotion decision",
        )
        raise
    evidence = scored.evidence
    if evidence.not_compared:
        get_run_logger().warning(
            "champion v%s not compared: %s", evidence.version, evidence.not_compared
        )
    return scored
