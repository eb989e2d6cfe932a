"""Audit stage: publish what the lake holds and why rows were refused."""

import pandas as pd
from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from retrainer.audit import as_dict, as_markdown, audit
from retrainer.config import RetrainConfig
from retrainer.home import home
from retrainer.lake import Lake


@task(name="audit-data", cache_policy=NO_CACHE)
def audit_data(
    config: RetrainConfig, validated: dict[str, pd.DataFrame] | None = None
) -> list[dict]:
    """Rows in/accepted/quarantined/duplicates per source and partition, null rates, reasons.

    ``validated``: the sources' accepted rows, when the flow has read them already.
    """
    audits = audit(Lake(home().lake), [s.name for s in config.sources], validated)
    create_markdown_artifact(
        key=f"data-audit-{config.name}", markdown=as_markdown(audits), description="Data audit"
    )
    return as_dict(audits)
