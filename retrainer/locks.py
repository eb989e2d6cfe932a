"""Locks across deployments: Prefect global concurrency limits that flows hold while writing.

The lake has a single writer (see ``retrainer/lake.py``). The retrain and the ingest
deployments both ingest, and a deployment's concurrency limit only counts its own runs, so
both take the data set's lake-writer slot around ingestion. ``retrainer serve`` creates the
limits; without them (a run without ``make up``) nothing is enforced and Prefect logs that.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager


def lake_writer_limit(dataset: str) -> str:
    """The name of the global concurrency limit guarding one data set's lake."""
    return f"lake-writer-{dataset}"


@contextmanager
def lake_writer(dataset: str) -> Iterator[None]:
    """Hold the data set's one lake-writer slot for the block, waiting for it if taken."""
    from prefect.concurrency.sync import concurrency

    with concurrency(lake_writer_limit(dataset), occupy=1, strict=False):
        yield


def ensure_lake_writer_limits(datasets: Iterable[str]) -> None:
    """Create (or reset to 1) the lake-writer limit of each data set on the Prefect server."""
    from prefect import get_client

    with get_client(sync_client=True) as client:
        for dataset in datasets:
            client.upsert_global_concurrency_limit_by_name(lake_writer_limit(dataset), 1)
