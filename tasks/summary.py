"""The run's summary: what it decided and why, its numbers against the champion's, links."""

from prefect.artifacts import create_markdown_artifact

from retrainer.boundaries import tracking
from retrainer.boundaries.champion import ScoredChampion
from retrainer.boundaries.configs import config_overrides
from retrainer.boundaries.settings import home
from retrainer.domain.config import RetrainConfig
from retrainer.domain.evaluation import Evaluation
from retrainer.domain.features import Split, TrainingTable
from retrainer.domain.links import mlflow_links
from retrainer.domain.promotion import Decision
from retrainer.domain.records import LoggedModel
from retrainer.domain.reports import RunFacts, summary_markdown


def publish_summary(
    config: RetrainConfig,
    logged: LoggedModel,
    decision: Decision,
    alias: str,
    evaluation: Evaluation,
    champion: ScoredChampion,
    split: Split,
    table: TrainingTable,
    deliveries: dict[str, list[dict]],
    validation: dict,
) -> None:
    """Publish the summary as the flow run's own artifact, the first the Artifacts tab shows.

    Deliberately not a task: the Prefect UI lists the artifacts a flow creates itself above
    those of its tasks, so the decision is the first thing a person reads.
    """
    ui = tracking.ui_url(home())
    links = {}
    if ui:
        found = mlflow_links(ui, logged, tracking.RUNS_VIEW)
        links = {
            "MLflow run": found.run,
            f"{logged.model} v{logged.version}": found.model_version,
            "all runs": found.runs,
        }
    if validation.get("data_docs"):
        links["training table in Data Docs"] = validation["data_docs"]
    facts = RunFacts(
        logged=logged,
        decision=decision,
        alias=alias,
        metrics=evaluation.metrics,
        champion_metrics=champion_metrics(champion),
        periods=split.periods,
        rows={
            "train": len(split.train),
            "validation": len(split.validation),
            "test": len(split.test),
        },
        rows_without_label=table.rows_without_label,
        deliveries=deliveries,
        overrides=config_overrides(config),
        links=links,
    )
    create_markdown_artifact(
        key=f"summary-{config.name}",
        markdown=summary_markdown(facts),
        description=f"What this retrain of {config.name} decided, and why",
    )


def champion_metrics(champion: ScoredChampion) -> dict[str, float] | None:
    """The champion's gate metric on the compared rows, when it was compared."""
    compared = champion.evidence.comparison
    return None if compared is None else {compared.metric: compared.champion_value}
