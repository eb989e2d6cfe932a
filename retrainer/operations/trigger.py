"""Start a deployment's run over the Prefect API and follow it: ``retrainer trigger``.

The same call as ``POST /api/deployments/{id}/create_flow_run`` with an idempotency key;
parameters are checked against ``RetrainConfig`` here first, so a typo is a message rather
than a run that fails minutes later. What the run decided is read from the MLflow registry,
where the flow recorded it, as data.
"""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from retrainer.boundaries import prefect_api, tracking
from retrainer.boundaries.prefect_api import PrefectApiError
from retrainer.boundaries.settings import home
from retrainer.domain.links import Links, mlflow_links
from retrainer.domain.overrides import apply_overrides


class TriggerError(RuntimeError):
    """The server cannot be reached, has no such deployment, or refused the parameters."""


@dataclass
class Triggered:
    """A flow run created from a deployment, and where to see it."""

    id: str
    name: str
    state: str
    url: str
    requested_at: datetime


@dataclass
class Finished:
    """How a followed run ended, timed from the request, and what it decided."""

    name: str
    state: str
    message: str
    started_after: float | None
    finished_after: float | None
    decision: str | None
    links: Links | None


def trigger(
    deployment: str,
    overrides: dict[str, Any],
    idempotency_key: str | None = None,
    arguments: dict[str, Any] | None = None,
) -> Triggered:
    """Create a run of ``flow/name`` with the deployment's config, ``overrides`` applied.

    ``arguments`` are the flow's other parameters (a promotion's ``version`` and ``reason``).
    """
    try:
        deployment_id, defaults = prefect_api.find_deployment(deployment)
        parameters: dict[str, Any] = dict(arguments or {})
        if overrides:
            config = apply_overrides(defaults.get("config", {}), overrides)
            parameters["config"] = config.model_dump(mode="json")
        requested_at = datetime.now(UTC)
        run = prefect_api.create_run(
            deployment_id, parameters, idempotency_key or str(uuid.uuid4())
        )
    except PrefectApiError as exc:
        raise TriggerError(str(exc)) from exc
    return Triggered(
        id=run.id,
        name=run.name,
        state=run.state,
        url=f"{prefect_api.ui_url()}/runs/flow-run/{run.id}",
        requested_at=requested_at,
    )


def follow(
    triggered: Triggered,
    on_state: Callable[[str, float], None],
    timeout_seconds: float | None = None,
    poll_seconds: float = 1.0,
) -> Finished:
    """Poll the run until it is final, reporting each new state; return how it ended."""
    deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
    seen = None
    while True:
        run = prefect_api.run_status(triggered.id)
        if run.state != seen:
            seen = run.state
            on_state(run.state, (datetime.now(UTC) - triggered.requested_at).total_seconds())
        if run.final:
            return _finished(triggered, run)
        if deadline is not None and time.monotonic() > deadline:
            raise TriggerError(
                f"run {run.name} still {run.state} after {timeout_seconds:.0f} s: {triggered.url}"
            )
        time.sleep(poll_seconds)


def _finished(triggered: Triggered, run: prefect_api.RunStatus) -> Finished:
    h = home()
    found = tracking.find_flow_run_model(h.mlflow_uri, triggered.id)
    ui = tracking.ui_url(h)
    return Finished(
        name=run.name,
        state=run.state,
        message=run.message,
        started_after=_seconds(triggered.requested_at, run.start_time),
        finished_after=_seconds(triggered.requested_at, run.end_time),
        decision=found.decision if found else None,
        links=mlflow_links(ui, found.logged) if found and ui else None,
    )


def _seconds(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds()
