"""The Prefect events this project emits, and the resource names automations match on.

Kept free of Prefect imports at module level: ``retrainer land`` must stay quick and must
work without any Prefect server.
"""

import logging

from retrainer.http import answers

LANDED = "retrainer.data.landed"
DRAIN_SECONDS = 5.0


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
    if not landings or not api_url or not answers(f"{api_url}/health"):
        return []
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
