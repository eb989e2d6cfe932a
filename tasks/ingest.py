"""Ingestion stage: every source's new deliveries into the lake; then read the validated zone."""

import pandas as pd
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy.exc import OperationalError

from retrainer.boundaries.ingest import ingest_source as ingest
from retrainer.boundaries.lake import Lake
from retrainer.boundaries.settings import expectations_dir, home
from retrainer.boundaries.validation import update_data_docs
from retrainer.domain.config import RetrainConfig
from retrainer.domain.reports import links_markdown


class RejectedDeliveryError(RuntimeError):
    """At least one delivery was rejected; the accepted ones are in the lake."""


def transient(task, task_run, state) -> bool:
    """Retry only failures that may pass by themselves: I/O and database connection errors.

    A rejected delivery would be rejected again, so it is not retried.
    """
    try:
        state.result()
    except (OSError, OperationalError):
        return True
    except Exception:
        return False
    return False


@task(
    name="ingest-source",
    task_run_name="ingest-{source_name}",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[5, 30],
    retry_condition_fn=transient,
)
def ingest_source(config: RetrainConfig, source_name: str) -> list[dict]:
    """Land every new delivery of one source: raw copy, schema, dedup, expectations, lake."""
    h = home()
    landed = ingest(Lake(h.lake), config.source(source_name), h.landing, expectations_dir(), h.gx)
    rows, errors = landed.summary(), landed.errors
    get_run_logger().info("%s: %d new deliveries, %d rejected", source_name, len(rows), len(errors))
    if rows:
        index = update_data_docs(h.gx, landed.reports)
        pages = {r.record.name: r.validation.docs_url for r in landed.results if r.validation}
        create_markdown_artifact(
            key=f"data-docs-{source_name}",
            markdown=links_markdown({"all validations": index, **pages}),
            description=f"Each new delivery of `{source_name}` in Great Expectations' Data Docs",
        )
        create_table_artifact(
            key=f"ingest-{source_name}",
            table=rows,
            description=f"New deliveries of source `{source_name}` in this run",
        )
    if errors:
        raise RejectedDeliveryError(
            f"{len(errors)} delivery(ies) of {source_name} rejected (raw copies kept in "
            f"{h.lake / 'raw' / source_name}; nothing from them was added):\n\n"
            + "\n\n".join(errors)
        )
    return rows


@task(name="read-validated", cache_policy=NO_CACHE)
def read_validated(config: RetrainConfig) -> dict[str, pd.DataFrame]:
    """Every source's accepted rows from the lake's validated zone."""
    return Lake(home().lake).read_sources([s.name for s in config.sources])
