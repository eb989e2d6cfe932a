"""Explanation stage: what the new model and the champion rely on, and the model card."""

from dataclasses import asdict

import pandas as pd
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from retrainer.boundaries import tracking
from retrainer.boundaries.champion import ScoredChampion
from retrainer.boundaries.settings import home
from retrainer.domain.config import RetrainConfig
from retrainer.domain.explain import explain_run
from retrainer.domain.features import Split, TrainingTable, content_hash
from retrainer.domain.fingerprint import Fingerprint, training_config_hash
from retrainer.domain.model_card import ModelCard, build_card
from retrainer.domain.records import LoggedModel
from retrainer.domain.reports import card_markdown
from retrainer.domain.training import TrainedModel


@task(name="explain-and-card", cache_policy=NO_CACHE)
def explain_and_card(
    config: RetrainConfig,
    frames: dict[str, pd.DataFrame],
    table: TrainingTable,
    split: Split,
    trained: TrainedModel,
    logged: LoggedModel,
    champion: ScoredChampion,
) -> ModelCard | None:
    """SHAP summaries of both models on the same test rows, the change, the model card.

    Logged on the MLflow run (``model_card.md``, ``explain/*.json``, plots) and published
    as a Prefect artifact. Advisory: if it fails, the error is logged (with its trace in
    this task's log) and the gate still decides, so no version is left without a decision.
    """
    theirs = None
    if champion.model is not None:
        theirs = (champion.model, champion.inputs, champion.compared)
    try:
        explanation = explain_run(config, split, trained.pipeline, theirs)
        fingerprint = Fingerprint(content_hash(table.frame), training_config_hash(config))
        version = (logged.version, logged.run_id)
        card = build_card(config, frames, split, trained, version, fingerprint, explanation)
        markdown = card_markdown(card)
        documents = {"explain/importance.json": asdict(explanation.challenger)}
        if explanation.champion is not None:
            documents["explain/champion_importance.json"] = asdict(explanation.champion)
            documents["explain/importance_change.json"] = [asdict(r) for r in explanation.change]
        tracking.connect(home().mlflow_uri)
        tracking.log_run_artifacts(
            logged.run_id, documents, {"model_card.md": markdown}, explanation.figures
        )
    except Exception as exc:
        get_run_logger().exception("no explanation or model card (%s); the gate goes on", exc)
        return None
    if explanation.note:
        get_run_logger().warning(explanation.note)
    create_markdown_artifact(
        key=f"model-card-{config.name}", markdown=markdown, description="Model card"
    )
    return card
