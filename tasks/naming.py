"""Run naming: once the data is read, the run is renamed after what it trains on."""

import pandas as pd
from prefect import get_client, get_run_logger, runtime, task
from prefect.cache_policies import NO_CACHE

from retrainer.config import RetrainConfig
from retrainer.naming import latest_month, run_name


@task(name="name-run", cache_policy=NO_CACHE)
def name_run(config: RetrainConfig, frames: dict[str, pd.DataFrame]) -> str:
    """Rename this flow run ``<flow>-<data set>-<latest month>`` and tag it with both."""
    base = config.source(config.base)
    month = latest_month(frames[config.base], base.time_column, config.split.timezone)
    name = run_name(runtime.flow_run.flow_name, config.name, month)
    tags = {*runtime.flow_run.tags, config.name, f"model:{config.mlflow.registered_model}"}
    if month:
        tags.add(f"data-through:{month}")
    with get_client(sync_client=True) as client:
        client.update_flow_run(runtime.flow_run.id, name=name, tags=sorted(tags))
    get_run_logger().info("this run is %s", name)
    return name
