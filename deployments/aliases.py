"""The promote and rollback deployments: move the champion by hand, from the UI or the API."""

from typing import Any

from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.flows import Flow

from flows.aliases import promote, rollback
from retrainer.domain.config import DataSet


def _by_hand(flow: Flow[..., Any], dataset: DataSet, what: str) -> RunnerDeployment:
    """``<flow>/<data set>``: no schedule; the model name is preset, the rest is asked."""
    model = dataset.config.mlflow.registered_model
    return flow.to_deployment(
        name=dataset.config.name,
        parameters={"model": model},
        description=f"{what} of `{model}` by hand, with a reason (recorded in its history).",
        entrypoint_type=EntrypointType.MODULE_PATH,
        tags=["registry", dataset.config.name],
    )


def promote_deployment(dataset: DataSet) -> RunnerDeployment:
    """``promote/<data set>``: parameters ``version`` and ``reason``."""
    return _by_hand(promote, dataset, "Make a version the champion")


def rollback_deployment(dataset: DataSet) -> RunnerDeployment:
    """``rollback/<data set>``: parameter ``reason``."""
    return _by_hand(rollback, dataset, "Give the champion alias back to the previous champion")
