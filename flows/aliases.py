"""Moving the champion by hand, as flows: ``promote`` and ``rollback``.

Deployed as ``promote/<data set>`` and ``rollback/<data set>``, so they can be started from
the Prefect UI or over its API as well as with ``retrainer promote`` / ``retrainer rollback``
(which call the same functions without a server). Every move is recorded in the MLflow
registry with its reason, by whom, and this run.
"""

from prefect import flow

from retrainer.domain.history import AliasMove
from tasks.aliases import promote_version, rollback_champion


@flow(name="promote", flow_run_name="promote-{model}-v{version}")
def promote(model: str, version: int, reason: str, requested_by: str = "") -> AliasMove:
    """Make model version ``version`` the champion, whatever the gate said, with a reason."""
    return promote_version(model, str(version), reason, requested_by)


@flow(name="rollback", flow_run_name="rollback-{model}")
def rollback(model: str, reason: str, requested_by: str = "") -> AliasMove:
    """Give the champion alias back to the previous champion, with a reason."""
    return rollback_champion(model, reason, requested_by)
