"""The ingest deployment: land new deliveries in the lake daily, between retrains."""

from prefect.deployments.runner import RunnerDeployment

from deployments.common import config_deployment
from flows.ingest import ingest
from retrainer.config import RetrainConfig


def ingest_deployment(config: RetrainConfig) -> RunnerDeployment:
    """``ingest/<data set>``: validate deliveries as they arrive, not only at retrain time."""
    return config_deployment(
        ingest,
        config,
        config.deployment.ingest,
        description=f"Ingest every source of data set `{config.name}` into the lake.",
        tags=["ingest", config.name],
    )
