"""Run naming: once the data is read, the run is renamed after what it trains on."""

import pandas as pd
from prefect import get_run_logger, runtime, task
from prefect.cache_policies import NO_CACHE

from retrainer.boundaries.prefect_api import rename_flow_run, runs_named
from retrainer.domain.config import RetrainConfig
from retrainer.domain.naming import latest_month, numbered, run_name, run_tags


@task(name="name-run", cache_policy=NO_CACHE)
def name_run(config: RetrainConfig, frames: dict[str, pd.DataFrame]) -> str:
    """Rename this flow run ``<flow>-<data set>-<latest month> #<n>`` and tag it; return it.

    ``n`` counts the runs on data through the same month, so two runs on the same data can
    be told apart in the runs list.
    """
    base = config.source(config.base)
    month = latest_month(frames[config.base], base.time_column, config.split.timezone)
    data = run_name(runtime.flow_run.flow_name, config.name, month)
    name = numbered(data, runs_named(data))
    rename_flow_run(runtime.flow_run.id, name, run_tags(runtime.flow_run.tags, config, month))
    get_run_logger().info("this run is %s", name)
    return name
