"""Run naming: once the data is read, the run is renamed after what it trains on."""

import pandas as pd
from prefect import get_run_logger, runtime, task
from prefect.cache_policies import NO_CACHE

from retrainer.boundaries.prefect_api import rename_flow_run
from retrainer.domain.config import RetrainConfig
from retrainer.domain.naming import latest_month, run_name, run_tags


@task(name="name-run", cache_policy=NO_CACHE)
def name_run(config: RetrainConfig, frames: dict[str, pd.DataFrame]) -> str:
    """Rename this flow run ``<flow>-<data set>-<latest month>`` and tag it; return the name."""
    base = config.source(config.base)
    month = latest_month(frames[config.base], base.time_column, config.split.timezone)
    name = run_name(runtime.flow_run.flow_name, config.name, month)
    rename_flow_run(runtime.flow_run.id, name, run_tags(runtime.flow_run.tags, config, month))
    get_run_logger().info("this run is %s", name)
    return name
