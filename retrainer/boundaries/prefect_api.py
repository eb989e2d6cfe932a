"""Every call to the Prefect API, through Prefect's own client: the one module that talks to it.

Runs, deployments, schedules, work pools, events. Prefect is imported inside
each function: ``retrainer land`` and ``make down`` must stay quick, and landing data must
work with no Prefect server at all. Results come back as plain dataclasses.
"""

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from retrainer.boundaries.settings import settings

LANDED = "retrainer.data.landed"
PREDICTED = "retrainer.predictions.written"
ALARM = "retrainer.monitor.alarm"
DRAIN_SECONDS = 5.0
FINAL = {"COMPLETED", "FAILED", "CANCELLED", "CRASHED"}
IN_FLIGHT = ["PENDING", "RUNNING", "CANCELLING", "PAUSED"]


class PrefectApiError(RuntimeError):
    """The server cannot be reached, has no such deployment, or refused a request."""


@dataclass(frozen=True)
class RunStatus:
    """A flow run as the API reports it now."""

    id: str
    name: str
    state: str
    final: bool
    message: str
    start_time: datetime | None
    end_time: datetime | None


def _auth_string() -> str | None:
    secret = settings().prefect_api_auth_string
    return secret.get_secret_value() if secret else None


def _http_status(api: str, path: str, timeout: float) -> int | None:
    """The status of a GET on ``api + path`` with our credentials; None when nothing answers."""
    import httpx

    auth = _auth_string()
    user, _, password = (auth or "").partition(":")
    try:
        response = httpx.get(
            f"{api}{path}", timeout=timeout, auth=(user, password) if auth else None
        )
    except httpx.HTTPError:
        return None
    return response.status_code


def api_answers(api: str, timeout: float = 1.0) -> bool:
    """True when the Prefect API at ``api`` answers its health check within ``timeout`` s."""
    return _http_status(api, "/health", timeout) == 200


def refuses_us(api: str, timeout: float = 2.0) -> bool:
    """True when the Prefect API at ``api`` answers, but not to our credentials (401, 403).

    Its health check answers anyone; an authenticated endpoint tells whether we are let in.
    """
    return _http_status(api, "/admin/version", timeout) in (401, 403)


@contextmanager
def client(api: str | None = None) -> Iterator[Any]:
    """Prefect's sync client for ``api`` (default: the configured PREFECT_API_URL)."""
    from prefect import get_client
    from prefect.client.orchestration import SyncPrefectClient

    if api is None:
        with get_client(sync_client=True) as found:
            yield found
        return
    with SyncPrefectClient(api, auth_string=_auth_string()) as found:
        yield found


def ui_url() -> str:
    """The Prefect UI's base URL for the API in use."""
    from prefect.settings import get_current_settings

    current = get_current_settings()
    if current.ui_url:
        return str(current.ui_url).rstrip("/")
    return str(current.api.url).rstrip("/").removesuffix("/api")


@contextmanager
def api_for_workers() -> Iterator[None]:
    """Settings that point work run by other processes at the Prefect API this one uses.

    A task submitted to a Dask cluster carries the submitting process's Prefect settings.
    Without PREFECT_API_URL (a temporary server for this process) each worker process would
    start a temporary server of its own: measured 35 s instead of 8 s for four tiny tasks.
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if PREFECT_API_URL.value():
        yield
        return
    with client() as found, temporary_settings({PREFECT_API_URL: str(found.api_url)}):
        yield


# --- runs -----------------------------------------------------------------------------------


def rename_flow_run(flow_run_id: str, name: str, tags: Iterable[str]) -> None:
    """Give a flow run the name and tags a person reads in the UI."""
    with client() as api:
        api.update_flow_run(uuid.UUID(str(flow_run_id)), name=name, tags=sorted(set(tags)))


def runs_named(prefix: str) -> int:
    """How many flow runs have a name that starts with ``prefix``."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    with client() as api:
        found = api.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(like_=prefix))
        )
    return sum(1 for run in found if run.name.startswith(prefix))


def started_at(flow_run_id: str) -> datetime | None:
    """When a flow run started running (None: not yet, or unknown)."""
    with client() as api:
        return api.read_flow_run(uuid.UUID(str(flow_run_id))).start_time


def find_deployment(name: str) -> tuple[str, dict[str, Any]]:
    """The id and default parameters of deployment ``flow/name``; a clear error if absent."""
    import httpx
    from prefect.exceptions import ObjectNotFound

    with client() as api:
        try:
            found = api.read_deployment_by_name(name)
        except ObjectNotFound as exc:
            flows = {f.id: f.name for f in api.read_flows()}
            names = sorted(f"{flows.get(d.flow_id)}/{d.name}" for d in api.read_deployments())
            raise PrefectApiError(
                f"no deployment {name} on {api.api_url}; "
                f"deployments: {', '.join(names) or 'none (is `make up` running?)'}"
            ) from exc
        except httpx.HTTPError as exc:
            raise PrefectApiError(f"cannot reach the Prefect API at {api.api_url}: {exc}") from exc
    return str(found.id), dict(found.parameters)


def started_by(flow_run_id: str) -> str | None:
    """The name of the automation that created a flow run, or None (a schedule, a person)."""
    with client() as api:
        created = api.read_flow_run(uuid.UUID(flow_run_id)).created_by
    return created.display_value if created and created.type == "AUTOMATION" else None


BUSY_RETRY_SECONDS = 300.0


def create_run(
    deployment_id: str,
    parameters: dict[str, Any],
    idempotency_key: str,
    api_url: str | None = None,
) -> RunStatus:
    """Create a run of a deployment; the same ``idempotency_key`` returns the same run.

    A burst of requests can keep the server's SQLite database busy for longer than Prefect's
    client retries (503 after about a minute): the request is sent again, with backoff, for
    up to ``BUSY_RETRY_SECONDS``. The idempotency key makes that safe: one run, never two.
    """
    import time

    from prefect.exceptions import PrefectHTTPStatusError

    deadline, delay = time.monotonic() + BUSY_RETRY_SECONDS, 1.0
    with client(api_url) as api:
        while True:
            try:
                run = api.create_flow_run_from_deployment(
                    uuid.UUID(deployment_id), parameters=parameters, idempotency_key=idempotency_key
                )
                break
            except PrefectHTTPStatusError as exc:
                busy = exc.response.status_code == 503 and time.monotonic() < deadline
                if not busy:
                    raise PrefectApiError(
                        f"the server refused the run ({exc.response.status_code}): "
                        f"{_detail(exc.response)}"
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 16.0)
    return _status(run)


def run_status(flow_run_id: str) -> RunStatus:
    """A flow run's current state."""
    with client() as api:
        return _status(api.read_flow_run(uuid.UUID(flow_run_id)))


def _status(run: Any) -> RunStatus:
    state = run.state
    return RunStatus(
        id=str(run.id),
        name=run.name,
        state=state.name if state else "?",
        final=bool(state and state.type.value in FINAL),
        message=(state.message or "") if state else "",
        start_time=run.start_time,
        end_time=run.end_time,
    )


@dataclass(frozen=True)
class TaskTiming:
    """When one task run of a flow run started and ended."""

    task: str  # the task's function name (a task run's name may be templated)
    start: datetime
    end: datetime


def latest_run_timings(api_url: str, flow: str) -> tuple[RunStatus, list[TaskTiming]]:
    """The most recently started run of ``flow`` at ``api_url`` and its task runs' times."""
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterId,
        FlowRunFilterStartTime,
    )
    from prefect.client.schemas.sorting import FlowRunSort

    with client(api_url) as api:
        (run,) = api.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[flow])),
            # Scheduled runs of the served deployments have not started: not them.
            flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(is_null_=False)),
            sort=FlowRunSort.START_TIME_DESC,
            limit=1,
        )
        tasks = api.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
    timings = [
        TaskTiming(t.task_key.rsplit("-", 1)[0], t.start_time, t.end_time)
        for t in tasks
        if t.start_time and t.end_time
    ]
    return _status(run), sorted(timings, key=lambda t: t.start)


def _detail(response: Any) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return response.text


# --- deployments and schedules (what `make up` waits for) ----------------------------------


def next_scheduled(api_url: str, flow: str, deployment: str) -> datetime | None:
    """When the next scheduled run of ``flow/deployment`` is due; None if none or no such."""
    from prefect.exceptions import ObjectNotFound

    with client(api_url) as api:
        try:
            found = api.read_deployment_by_name(f"{flow}/{deployment}")
        except ObjectNotFound:
            return None
        return _next_run(api, found.id)


def _next_run(api: Any, deployment_id: Any) -> datetime | None:
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.sorting import FlowRunSort

    runs = api.read_flow_runs(
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
        flow_run_filter=FlowRunFilter(
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=["SCHEDULED"]))
        ),
        sort=FlowRunSort.EXPECTED_START_TIME_ASC,
        limit=1,
    )
    return runs[0].expected_start_time if runs else None


def _served(api: Any) -> list[Any]:
    # Deployments with no work pool are served ones (`retrainer serve` executes them).
    return [d for d in api.read_deployments() if not d.work_pool_name]


def _polled_since(deployment: Any, since: datetime) -> bool:
    # Deployments from an earlier `up` (or an old config) exist already: only those the new
    # serve process polls count.
    return deployment.last_polled is not None and deployment.last_polled >= since


def _registered(api: Any, since: datetime, pool: str | None) -> list[Any]:
    """The deployments this `up` registered: polled by its serve process, or put on ``pool``."""
    if pool is None:
        return [d for d in _served(api) if _polled_since(d, since)]
    # Nobody polls a pool's deployments until a worker starts: registered means updated.
    return [d for d in api.read_deployments() if d.work_pool_name == pool and d.updated >= since]


def serving(api_url: str, names: set[str], since: datetime) -> bool:
    """True once the deployments named ``names`` are registered and polled for runs."""
    import httpx

    try:
        with client(api_url) as api:
            polled = {d.name for d in _served(api) if _polled_since(d, since)}
    except (httpx.HTTPError, OSError):
        return False
    return names <= polled


def unscheduled(api_url: str, since: datetime, pool: str | None = None) -> list[str]:
    """Deployments registered since ``since`` with an active schedule but no scheduled run.

    Served ones by default; with ``pool``, those registered on that work pool.
    """
    with client(api_url) as api:
        flows = {f.id: f.name for f in api.read_flows()}
        return [
            f"{flows.get(d.flow_id)}/{d.name}"
            for d in _registered(api, since, pool)
            if any(schedule.active for schedule in d.schedules) and _next_run(api, d.id) is None
        ]


# --- work pools (deployments executed by workers on other machines) -----------------------

PROCESS_POOL = "process"


@contextmanager
def api_in_use(api_url: str) -> Iterator[None]:
    """Make ``api_url`` the API that Prefect's own calls (``deployment.apply()``) talk to."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        yield


def ensure_process_pool(name: str, api_url: str | None = None) -> None:
    """Create the process work pool ``name`` unless it exists.

    The same as ``prefect work-pool create NAME --type process``, with the process worker's
    default job template. A pool of another type is an error: its workers would run the
    flows somewhere else than this project's environment.
    """
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.workers.process import ProcessWorker

    template = ProcessWorker.get_default_base_job_template()
    with client(api_url) as api:
        try:
            api.create_work_pool(
                WorkPoolCreate(name=name, type=PROCESS_POOL, base_job_template=template)
            )
        except ObjectAlreadyExists:
            found = api.read_work_pool(name)
            if found.type != PROCESS_POOL:
                raise PrefectApiError(
                    f"work pool {name} is a {found.type!r} pool; the deployments need a "
                    f"{PROCESS_POOL!r} pool: pick another RETRAINER_WORK_POOL"
                ) from None


def online_workers(api_url: str, pool: str) -> list[str]:
    """The names of the workers of ``pool`` whose heartbeat the server saw lately."""
    from prefect.client.schemas.objects import WorkerStatus
    from prefect.exceptions import ObjectNotFound

    with client(api_url) as api:
        try:
            api.read_work_pool(pool)
        except ObjectNotFound:
            return []
        workers = api.read_workers_for_work_pool(pool)
    return sorted(w.name for w in workers if w.status == WorkerStatus.ONLINE)


def crash_in_flight_runs(api_url: str, why: str, echo: Callable[[str], None]) -> None:
    """Mark the served deployments' unfinished runs (and their subflows) Crashed.

    Prefect leaves runs whose process was killed in Running for ever, and a Running retrain
    keeps the deployment's concurrency slot: every later retrain would wait behind it.
    """
    import httpx
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterParentFlowRunId,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.states import Crashed

    unfinished = FlowRunFilterState(type=FlowRunFilterStateType(any_=IN_FLIGHT))
    try:
        with client(api_url) as api:
            served = [d.id for d in _served(api)]
            runs = api.read_flow_runs(
                flow_run_filter=FlowRunFilter(state=unfinished),
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=served)),
            )
            if runs:
                runs += api.read_flow_runs(
                    flow_run_filter=FlowRunFilter(
                        state=unfinished,
                        parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[r.id for r in runs]),
                    )
                )
            for run in runs:
                api.set_flow_run_state(run.id, Crashed(message=why), force=True)
                echo(f"marked run {run.name} crashed (it was {run.state.name})")
    except (httpx.HTTPError, OSError) as exc:
        echo(f"could not mark unfinished runs crashed: {exc}")


# --- events ---------------------------------------------------------------------------------


def dataset_resource_id(dataset: str) -> str:
    """The event resource of a data set, e.g. ``retrainer.dataset.flights``."""
    return f"retrainer.dataset.{dataset}"


def emit_landed(
    api_url: str | None, dataset: str, landings: list[tuple[str, list[str]]]
) -> list[str]:
    """Tell the Prefect server at ``api_url`` that periods of ``dataset`` landed.

    ``landings`` holds (period, files) pairs, one event each. Returns the event ids, none
    when no server answers: landing data never depends on the orchestrator being up, and
    never waits more than a few seconds for it.
    """
    if not landings or not api_url or not api_answers(api_url):
        return []
    if refuses_us(api_url):
        raise PrefectApiError(
            f"the Prefect server at {api_url} refused our credentials: set "
            "PREFECT_API_AUTH_STRING (user:password) to its auth string"
        )
    from prefect.events import emit_event
    from prefect.events.worker import EventsWorker

    ids = []
    for period, files in landings:
        event = emit_event(
            event=LANDED,
            resource={
                "prefect.resource.id": dataset_resource_id(dataset),
                "prefect.resource.name": dataset,
                "retrainer.period": period,
            },
            payload={"dataset": dataset, "period": period, "files": files},
        )
        if event is not None:
            ids.append(str(event.id))
    # Events leave from a background worker: flush it now, bounded, rather than at exit.
    # Its "still processing" progress warnings are noise for a handful of events.
    logging.getLogger(EventsWorker.__name__).setLevel(logging.ERROR)
    EventsWorker.drain_all(timeout=DRAIN_SECONDS)
    return ids


def emit_dataset_event(event: str, dataset: str, payload: dict[str, Any]) -> str | None:
    """Emit ``event`` about ``dataset`` to the Prefect API in use (inside a flow run, its own).

    Returns the event id (None when events are off). Automations match on the data set's
    resource id, e.g. the retrain deployment's trigger on ``retrainer.monitor.alarm``.
    """
    from prefect.events import emit_event

    sent = emit_event(
        event=event,
        resource={
            "prefect.resource.id": dataset_resource_id(dataset),
            "prefect.resource.name": dataset,
        },
        payload={"dataset": dataset, **payload},
    )
    return None if sent is None else str(sent.id)
