"""Names a person reads in the Prefect UI: which data set, up to which month."""

import pandas as pd

from retrainer.domain.config import RetrainConfig


def latest_month(frame: pd.DataFrame, time_column: str | None, timezone: str | None) -> str | None:
    """The latest calendar month (``YYYY-MM``, in ``timezone``) of ``time_column``, or None.

    None too for a data set without times (the run is then named after the data set only).
    """
    if time_column is None:
        return None
    times = pd.to_datetime(frame[time_column], utc=True).dropna()
    if times.empty:
        return None
    return times.max().tz_convert(timezone or "UTC").strftime("%Y-%m")


def run_name(flow: str, dataset: str, month: str | None) -> str:
    """``retrain-flights-2013-11``: flow, data set, latest month of the base data."""
    return "-".join(part for part in (flow, dataset, month) if part)


def numbered(name: str, earlier: int) -> str:
    """``retrain-flights-2013-11 #3``: the third run on the same data gets a name of its own."""
    return f"{name} #{earlier + 1}"


def mlflow_run_name(run_name: str, version: str, decision: str) -> str:
    """``retrain-flights-2013-11 #3 v7 promoted``: the data, the version and what the gate did."""
    return f"{run_name} v{version} {decision}"


def run_tags(existing: list[str], config: RetrainConfig, month: str | None) -> list[str]:
    """The run's tags: what it had, plus the data set, the model and the data's last month."""
    tags = {*existing, config.name, f"model:{config.mlflow.registered_model}"}
    if month:
        tags.add(f"data-through:{month}")
    return sorted(tags)
