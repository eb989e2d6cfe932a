"""Ingestion stage: every source's new deliveries into the lake; then read the validated zone."""

import pandas as pd
from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy.exc import OperationalError

from retrainer.config import RetrainConfig
from retrainer.home import home
from retrainer.ingest import IngestResult, KeyIndex, ingest_delivery
from retrainer.lake import Lake
from retrainer.paths import expectations_dir
from retrainer.sources import deliveries
from retrainer.validation import update_data_docs


class RejectedDeliveryError(RuntimeError):
    """At least one delivery was rejected; the accepted ones are in the lake."""


def summary_row(result: IngestResult) -> dict:
    """One line of the validation summary: what became of a delivery and which checks failed."""
    r, report = result.record, result.validation
    failed = [o for o in report.outcomes if not o.success] if report else []
    return {
        "delivery": r.name,
        "status": r.status,
        "rows_in": r.rows_in,
        "accepted": r.accepted,
        "quarantined": r.quarantined,
        "duplicates": r.duplicates,
        "failed_expectations": ", ".join(f"{o.expectation}({o.column or ''})" for o in failed),
        "reason": r.reason.splitlines()[0] if r.reason else "",
        "validation_seconds": r.validation_seconds,
    }


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
    logger = get_run_logger()
    h = home()
    lake, source = Lake(h.lake), config.source(source_name)
    now = pd.Timestamp.now(tz="UTC")
    rows, errors, reports = [], [], []
    keys = KeyIndex(lake, source)
    for delivery in deliveries(source, h.landing):
        result = ingest_delivery(lake, source, delivery, keys, expectations_dir(), h.gx, now)
        if result is None:
            continue
        rows.append(summary_row(result))
        if result.error:
            errors.append(result.error)
        if result.validation:
            reports.append(result.validation)
    logger.info("%s: %d new deliveries, %d rejected", source_name, len(rows), len(errors))
    if rows:
        docs = update_data_docs(h.gx, reports)
        create_link_artifact(key=f"data-docs-{source_name}", link=docs, link_text="Data Docs")
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
    lake = Lake(home().lake)
    frames = {s.name: lake.read_validated(s.name) for s in config.sources}
    empty = [name for name, frame in frames.items() if frame.empty]
    if empty:
        raise RuntimeError(
            f"no validated data for sources {empty}: deliver data first "
            "(`retrainer land --month N` for the demo)"
        )
    return frames
