"""Audit stage: publish what the lake holds and why rows were refused."""

import pandas as pd
from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from retrainer.boundaries.lake import Lake
from retrainer.boundaries.settings import home
from retrainer.domain.audit import as_dict, as_markdown
from retrainer.domain.config import RetrainConfig


@task(name="audit-data", cache_policy=NO_CACHE)
def audit_data(
    config: RetrainConfig, validated: dict[str, pd.DataFrame] | None = None
) -> list[dict]:
    """Rows in/accepted/quarantined/duplicates per source and partition, null rates, reasons.

    ``validated``: the sources' accepted rows, when the flow has read them already.
    """
    audits = Lake(home().lake).audit(
        [s.name for s in config.sources],
        validated,
        {s.name: s.time_column for s in config.sources},
        config.split.timezone,
    )
    create_markdown_artifact(
        key=f"data-audit-{config.name}", markdown=as_markdown(audits), description="Data audit"
    )
    return as_dict(audits)
