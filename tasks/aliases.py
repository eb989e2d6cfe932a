"""Alias stage for people: a forced promotion and a rollback, each recorded with its reason."""

from prefect import get_run_logger, runtime, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from retrainer.boundaries import aliases, tracking
from retrainer.boundaries.settings import home
from retrainer.domain.history import AliasMove
from retrainer.domain.reports import move_markdown


def _who(requested_by: str) -> tuple[str, str]:
    """Who moved the alias (the person asking, else this flow run), and the flow run id."""
    run = str(runtime.flow_run.id or "")
    return requested_by or f"flow run {runtime.flow_run.name}", run


def _publish(model: str, move: AliasMove) -> None:
    get_run_logger().info("%s@%s: %s -> v%s", model, move.alias, move.from_version, move.to_version)
    create_markdown_artifact(
        key="alias-move", markdown=move_markdown(model, move), description="What moved and why"
    )


@task(name="promote-version", cache_policy=NO_CACHE)
def promote_version(model: str, version: str, reason: str, requested_by: str) -> AliasMove:
    """Make ``version`` the champion whatever the gate said; recorded with the reason."""
    tracking.connect(home().mlflow_uri)
    by, run = _who(requested_by)
    move = aliases.promote(model, version, reason, by, run)
    _publish(model, move)
    return move


@task(name="rollback-champion", cache_policy=NO_CACHE)
def rollback_champion(model: str, reason: str, requested_by: str) -> AliasMove:
    """Give ``champion`` back to the champion before the current one."""
    tracking.connect(home().mlflow_uri)
    by, run = _who(requested_by)
    move = aliases.rollback(model, reason, by, run)
    _publish(model, move)
    return move
