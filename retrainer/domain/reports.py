"""Markdown a person reads in the Prefect UI, rendered from the run's results (never parsed)."""

from retrainer.domain.promotion import Decision
from retrainer.domain.records import LoggedModel


def decision_markdown(logged: LoggedModel, decision: Decision) -> str:
    """The promotion decision: verdict, reason, the two scores side by side."""
    before = "-" if decision.champion_metric is None else f"{decision.champion_metric:.4f}"
    champion = f"v{decision.champion_before}" if decision.champion_before else "-"
    return (
        f"### {logged.model} v{logged.version}: **{decision.decision}**\n\n"
        f"{decision.reason}\n\n"
        f"| | {decision.metric} |\n|---|---|\n"
        f"| challenger v{logged.version} | {decision.challenger_metric:.4f} |\n"
        f"| champion {champion} | {before} |\n\n"
        f"MLflow run `{logged.run_id}`, model `{logged.model_uri}`"
    )


def mlflow_location_markdown(logged: LoggedModel, tracking_uri: str) -> str:
    """Where the run and model are when no MLflow UI runs to link to."""
    return (
        f"MLflow run `{logged.run_id}`, model `{logged.model}` version {logged.version} in "
        f"`{tracking_uri}`. No MLflow UI was running: `make up` starts one."
    )
