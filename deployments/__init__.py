"""Deployments as code: each flow's deployment, built from a data set's config file.

``retrainer serve`` (started by ``make up``) registers them on the Prefect server and executes
their runs. One builder per flow, a function ``DataSet -> RunnerDeployment`` in its own
module; a new flow (monitoring, batch prediction) slots in with its module, an entry in
``BUILDERS`` and a ``ScheduleConfig`` field in ``DeploymentConfig``.
"""

from collections.abc import Iterable
from pathlib import Path

from prefect.deployments.runner import RunnerDeployment

from deployments.aliases import promote_deployment, rollback_deployment
from deployments.ingest import ingest_deployment
from deployments.monitor import monitor_deployment
from deployments.predict import predict_deployment
from deployments.retrain import retrain_deployment
from retrainer.domain.config import DataSet, load_dataset

BUILDERS = (
    retrain_deployment,
    ingest_deployment,
    promote_deployment,
    rollback_deployment,
    predict_deployment,
    monitor_deployment,
)


def build_deployments(datasets: Iterable[DataSet]) -> list[RunnerDeployment]:
    """Every flow's deployment for every data set."""
    return [build(dataset) for dataset in datasets for build in BUILDERS]


def serve_deployments(config_paths: Iterable[Path], limit: int | None = None) -> None:
    """Register the deployments of these config files and execute their runs until stopped."""
    from prefect import serve

    datasets = [load_dataset(path) for path in config_paths]
    deployments = build_deployments(datasets)
    # pause_on_shutdown=True (Prefect's default) pauses the schedules when this process
    # stops, and re-registering deletes the runs they had scheduled. Stopping the executor
    # (`make down`, a restart) must not change what is scheduled: runs due while it is down
    # are picked up, late, when it is back.
    serve(*deployments, pause_on_shutdown=False, limit=limit)
