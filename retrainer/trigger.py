"""Start a deployment's run over the Prefect API and follow it: ``retrainer trigger``.

The same call as ``POST /api/deployments/{id}/create_flow_run`` with an idempotency key;
parameters are checked against ``RetrainConfig`` here first, so a typo is a message rather
than a run that fails minutes later.
"""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from retrainer.overrides import apply_overrides

FINAL = {"COMPLETED", "FAILED", "CANCELLED", "CRASHED"}


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
    """How a followed run ended, timed from the request."""

    name: str
    state: str
    message: str
    started_after: float | None
    finished_after: float | None
    links: dict[str, str]


def trigger(
    deployment: str,
    overrides: dict[str, Any],
    idempotency_key: str | None = None,
) -> Triggered:
    """Create a run of ``flow/name`` with the deployment's config, ``overrides`` applied."""
    import httpx
    from prefect import get_client
    from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError

    key = idempotency_key or str(uuid.uuid4())
    with get_client(sync_client=True) as client:
        try:
            found = client.read_deployment_by_name(deployment)
        except ObjectNotFound as exc:
            flows = {f.id: f.name for f in client.read_flows()}
            names = sorted(f"{flows.get(d.flow_id)}/{d.name}" for d in client.read_deployments())
            raise TriggerError(
                f"no deployment {deployment} on {client.api_url}; "
                f"deployments: {', '.join(names) or 'none (is `make up` running?)'}"
            ) from exc
        except httpx.HTTPError as exc:
            raise TriggerError(f"cannot reach the Prefect API at {client.api_url}: {exc}") from exc
        parameters: dict[str, Any] = {}
        if overrides:
            config = apply_overrides(found.parameters.get("config", {}), overrides)
            parameters = {"config": config.model_dump(mode="json")}
        requested_at = _now()
        try:
            run = client.create_flow_run_from_deployment(
                found.id, parameters=parameters, idempotency_key=key
            )
        except PrefectHTTPStatusError as exc:
            raise TriggerError(
                f"the server refused the run ({exc.response.status_code}): {_detail(exc.response)}"
            ) from exc
    return Triggered(
        id=str(run.id),
        name=run.name,
        state=run.state.name if run.state else "?",
        url=f"{ui_url()}/runs/flow-run/{run.id}",
        requested_at=requested_at,
    )


def follow(
    triggered: Triggered,
    on_state: Callable[[str, float], None],
    timeout_seconds: float | None = None,
    poll_seconds: float = 1.0,
) -> Finished:
    """Poll the run until it is final, reporting each new state; return how it ended."""
    from prefect import get_client

    deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
    seen = None
    with get_client(sync_client=True) as client:
        while True:
            run = client.read_flow_run(uuid.UUID(triggered.id))
            state = run.state
            name = state.name if state else "?"
            if name != seen:
                seen = name
                on_state(name, (_now() - triggered.requested_at).total_seconds())
            if state and state.type.value in FINAL:
                return Finished(
                    name=run.name,
                    state=name,
                    message=state.message or "",
                    started_after=_seconds(triggered.requested_at, run.start_time),
                    finished_after=_seconds(triggered.requested_at, run.end_time),
                    links=_links(client, run.id),
                )
            if deadline is not None and time.monotonic() > deadline:
                raise TriggerError(
                    f"run {run.name} still {name} after {timeout_seconds:.0f} s: {triggered.url}"
                )
            time.sleep(poll_seconds)


def ui_url() -> str:
    """The Prefect UI's base URL for the API in use."""
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    if settings.ui_url:
        return str(settings.ui_url).rstrip("/")
    return str(settings.api.url).rstrip("/").removesuffix("/api")


def _links(client: Any, flow_run_id: Any) -> dict[str, str]:
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    artifacts = client.read_artifacts(
        flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
    )
    links = {}
    for artifact in artifacts:
        key, text = artifact.key or "", str(artifact.data)
        if key.startswith("promotion"):
            # "### model vN: **decision**", a blank line, then the reason.
            title, _, rest = text.partition("\n\n")
            reason = rest.split("\n\n", 1)[0]
            links[key] = f"{title.lstrip('# ').replace('**', '')}: {reason}"
        elif key.startswith("mlflow"):
            # Link artifacts come back as markdown: [text](url).
            links[key] = text.rsplit("](", 1)[-1].rstrip(")")
    return links


def _detail(response: Any) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return response.text


def _now() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)


def _seconds(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds()
