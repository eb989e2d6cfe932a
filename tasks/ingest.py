"""Ingestion stage: every source's new deliveries into the lake; then read the validated zone."""

import pandas as pd
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy.exc import OperationalError

from retrainer.boundaries.ingest import Rules, open_problems
from retrainer.boundaries.ingest import ingest_source as ingest
from retrainer.boundaries.lake import Lake, LakeWriteError
from retrainer.boundaries.privacy import pseudonym_key
from retrainer.boundaries.settings import expectations_dir, home
from retrainer.boundaries.validation import update_data_docs
from retrainer.domain.config import RetrainConfig
from retrainer.domain.reports import links_markdown
from retrainer.domain.row_checks import model_columns

LAKE_LOCK_TIMEOUT = 3600.0


class RejectedDeliveryError(RuntimeError):
    """A source whose rejections block the retrain has an open one; the rest is in the lake."""


def transient(task, task_run, state) -> bool:
    """Retry only failures that may pass by themselves: I/O and database connection errors.

    A rejected delivery would be rejected again, and a full disk stays full: not retried.
    """
    try:
        state.result()
    except LakeWriteError as exc:
        return exc.transient
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
    h, source, logger = home(), config.source(source_name), get_run_logger()
    rules = Rules(
        source=source,
        suite=expectations_dir() / source.suite,
        gx_root=h.gx,
        model_columns=tuple(model_columns(config, source_name)),
        pseudonym_key=pseudonym_key(h) if source.personal_columns else None,
    )
    landed = ingest(
        Lake(h.lake),
        rules,
        h.landing,
        waiting=lambda: logger.info("another process is writing to the lake: waiting for it"),
        lock_timeout=LAKE_LOCK_TIMEOUT,
    )
    rows = landed.summary()
    logger.info("%s: %d new deliveries, %d rejected", source_name, len(rows), len(landed.errors))
    for line in landed.warnings + landed.problems():
        logger.warning(line)
    if landed.reports:
        index = update_data_docs(h.gx, landed.reports)
        pages = {r.record.name: r.validation.docs_url for r in landed.results if r.validation}
        create_markdown_artifact(
            key=f"data-docs-{source_name}",
            markdown=links_markdown({"all validations": index, **pages}),
            description=f"Each new delivery of `{source_name}` in Great Expectations' Data Docs",
        )
    if rows:
        create_table_artifact(
            key=f"ingest-{source_name}",
            table=rows,
            description=f"New deliveries of source `{source_name}` in this run",
        )
    return rows


@task(name="check-deliveries", cache_policy=NO_CACHE)
def check_deliveries(config: RetrainConfig, ingested: dict[str, list[dict]]) -> list[str]:
    """Gate: open rejections and unreachable sources warn, or stop sources set to ``block``.

    Every run reports every rejection not yet replaced, with its reason and raw copy.
    """
    lines, blocking = open_problems(Lake(home().lake), config.sources, ingested)
    if lines:
        create_markdown_artifact(
            key=f"open-rejections-{config.name}",
            markdown="\n".join(f"- {line}" for line in lines),
            description="Deliveries rejected and not replaced yet; sources that did not answer",
        )
    if blocking:
        raise RejectedDeliveryError(
            f"{len(blocking)} problem(s) in sources set to `on_reject: block` (other sources "
            "and deliveries are in the lake; replace the delivery or set `on_reject: warn`):\n"
            + "\n".join(f"  - {line}" for line in blocking)
        )
    return lines


@task(name="read-validated", cache_policy=NO_CACHE)
def read_validated(config: RetrainConfig) -> dict[str, pd.DataFrame]:
    """Every source's accepted rows from the lake's validated zone."""
    return Lake(home().lake).read_sources([s.name for s in config.sources])
