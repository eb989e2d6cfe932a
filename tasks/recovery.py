"""Before any work: the services a run needs answer, and what killed runs left is closed."""

from datetime import UTC, datetime

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from retrainer.boundaries import tracking
from retrainer.boundaries.health import LOW_SPACE_BYTES, check_lake, check_tracking_server
from retrainer.boundaries.settings import home
from retrainer.domain.config import RetrainConfig


@task(name="check-services", cache_policy=NO_CACHE)
def check_services(config: RetrainConfig) -> dict:
    """Gate: the tracking store answers and the lake takes writes, before anything starts.

    Also sets up a local MLflow database once (under a lock, so two runs on a fresh home do
    not both migrate it) and points it at this home's artifacts (a copied home).
    """
    h, logger = home(), get_run_logger()
    check_tracking_server(h.mlflow_uri)
    rebased = tracking.prepare_local_store(
        h.mlflow_uri, h.mlartifacts, h.locks / "mlflow-setup.lock"
    )
    for old in rebased:
        logger.info("MLflow artifact paths under %s now point at %s", old, h.mlartifacts)
    free = check_lake(h.lake)
    if free < LOW_SPACE_BYTES:
        logger.warning("only %d MiB free for the lake at %s", free // 2**20, h.lake)
    return {"tracking": h.mlflow_uri, "lake_free_mib": free // 2**20}


@task(name="repair-interrupted-runs", cache_policy=NO_CACHE)
def repair_interrupted_runs(config: RetrainConfig) -> dict:
    """Close MLflow runs and model versions a killed run left behind (failed, with why)."""
    h, logger = home(), get_run_logger()
    tracking.connect(h.mlflow_uri)
    repair = tracking.repair_interrupted(
        config.mlflow.registered_model,
        config.mlflow.experiment,
        datetime.now(UTC).isoformat(timespec="seconds"),
    )
    lines = [
        f"MLflow run {run} was left RUNNING by a killed run: marked FAILED"
        for run in repair.runs_failed
    ]
    lines += [
        f"{config.mlflow.registered_model} v{v} had no promotion decision (its run was killed): "
        "decision `failed`, never promoted"
        for v in repair.versions_closed
    ]
    for line in lines:
        logger.warning(line)
    for problem in repair.problems:
        logger.error(problem)
    if lines or repair.problems:
        create_markdown_artifact(
            key=f"repair-{config.name}",
            markdown="\n".join(f"- {line}" for line in lines + repair.problems),
            description="What interrupted runs had left behind, and how it was closed",
        )
    return {"runs_failed": repair.runs_failed, "versions_closed": repair.versions_closed}
