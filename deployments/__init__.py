"""Deployments as code: each flow's deployment, built from a data set's config file.

``retrainer serve`` (started by ``make up``) registers them on the Prefect server and executes
their runs. With ``RETRAINER_WORK_POOL`` set, ``make up`` registers the same deployments on a
process work pool instead, and ``retrainer worker`` on each machine executes their runs. One
builder per flow, a function ``DataSet -> RunnerDeployment`` in its own module; a new flow
(monitoring, batch prediction) slots in with its module, an entry in ``BUILDERS`` and a
``ScheduleConfig`` field in ``DeploymentConfig``.
"""

from collections.abc import Iterable
from pathlib import Path

from prefect.deployments.runner import RunnerDeployment

from deployments.aliases import promote_deployment, rollback_deployment
from deployments.ingest import ingest_deployment
from deployments.monitor import monitor_deployment
from deployments.predict import predict_deployment
from deployments.retrain import retrain_deployment
from retrainer.boundaries.prefect_api import ensure_process_pool
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
    for deployment in deployments:
        # Set explicitly, so that registering clears the pool a deployment kept from a `make
        # up` with RETRAINER_WORK_POOL: this process executes its runs from now on.
        deployment.work_pool_name = None
    # pause_on_shutdown=True (Prefect's default) pauses the schedules when this process
    # stops, and re-registering deletes the runs they had scheduled. Stopping the executor
    # (`make down`, a restart) must not change what is scheduled: runs due while it is down
    # are picked up, late, when it is back.
    serve(*deployments, pause_on_shutdown=False, limit=limit)


def register_on_pool(config_paths: Iterable[Path], pool: str) -> list[str]:
    """Register the deployments of these config files on process work pool ``pool``.

    The same deployments ``serve_deployments`` registers (schedules, triggers, parameters,
    tags, concurrency), executed by the pool's workers instead of this process. Their
    entrypoints are module paths (``flows.retrain.retrain``): a worker imports the flows
    from the ``retrainer`` package installed in its own environment, so there is no code
    to upload and nothing to pull. Creates the pool if it is missing. Returns the
    deployments' names.
    """
    ensure_process_pool(pool)
    datasets = [load_dataset(path) for path in config_paths]
    names = []
    for deployment in build_deployments(datasets):
        deployment.apply(work_pool_name=pool)
        names.append(deployment.full_name)
    return names
