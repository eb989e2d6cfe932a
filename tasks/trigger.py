"""Provenance stage: what started this retrain, on the MLflow run and the model version."""

from prefect import get_run_logger, runtime, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from retrainer.boundaries import tracking
from retrainer.boundaries.prefect_api import started_by
from retrainer.boundaries.settings import home
from retrainer.domain.config import RetrainConfig
from retrainer.domain.records import LoggedModel

TRIGGER_TAG = "retrain.trigger"
# Prefect tags the runs its scheduler creates with this.
SCHEDULED = "auto-scheduled"


def origin() -> str:
    """``automation:<name>``, ``schedule`` or ``manual``: what created this flow run."""
    automation = started_by(str(runtime.flow_run.id))
    if automation:
        return f"automation:{automation}"
    return "schedule" if SCHEDULED in (runtime.flow_run.tags or []) else "manual"


@task(name="record-trigger", cache_policy=NO_CACHE)
def record_trigger(config: RetrainConfig, logged: LoggedModel, trigger: str | None) -> str:
    """Tag the run and version with what started the retrain (``drift:<event id>``, ...)."""
    found = trigger or origin()
    tracking.connect(home().mlflow_uri)
    tracking.set_tags(logged.model, logged.version, logged.run_id, {TRIGGER_TAG: found})
    create_markdown_artifact(
        key=f"trigger-{config.name}",
        markdown=f"Retrain of `{config.name}` started by **{found}**; "
        f"{logged.model} v{logged.version} carries the tag `{TRIGGER_TAG}`.",
        description="What started this retrain",
    )
    get_run_logger().info("started by %s", found)
    return found
