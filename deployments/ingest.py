"""The ingest deployment: land new deliveries in the lake daily, between retrains."""

from prefect.deployments.runner import RunnerDeployment

from deployments.common import config_deployment
from flows.ingest import ingest
from retrainer.domain.config import DataSet


def ingest_deployment(dataset: DataSet) -> RunnerDeployment:
    """``ingest/<data set>``: validate deliveries as they arrive, not only at retrain time."""
    name = dataset.config.name
    return config_deployment(
        ingest,
        dataset,
        dataset.deployment.ingest,
        description=f"Ingest every source of data set `{name}` into the lake.",
        tags=["ingest", name],
    )
