"""What every deployment builder shares: schedules from the config, the config parameter."""

from typing import Any

from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.flows import Flow
from prefect.schedules import Cron, Schedule

from retrainer.domain.config import DataSet, ScheduleConfig


class ScheduleError(ValueError):
    """A cron line in a config that Prefect cannot parse."""


def cron_schedules(schedule: ScheduleConfig, timezone: str, slug: str) -> list[Schedule]:
    """The deployment's schedules: one cron schedule, or none for an on-demand flow."""
    if schedule.cron is None:
        return []
    try:
        # A fixed slug lets the server update the schedule in place when the cron changes.
        return [Cron(schedule.cron, timezone=timezone, active=schedule.active, slug=slug)]
    except ValueError as exc:
        raise ScheduleError(f"schedule {slug}: invalid cron {schedule.cron!r}: {exc}") from exc


def config_deployment(
    flow: Flow[..., Any], dataset: DataSet, schedule: ScheduleConfig, **options: Any
) -> RunnerDeployment:
    """``<flow>/<data set>`` with the config file's values as the default ``config``."""
    config = dataset.config
    slug = f"{flow.name}-{config.name}"
    deployment = flow.to_deployment(
        name=config.name,
        parameters={"config": config.model_dump(mode="json")},
        schedules=cron_schedules(schedule, dataset.deployment.timezone, slug),
        # Module path, not file path: runs import the installed package from any cwd.
        entrypoint_type=EntrypointType.MODULE_PATH,
        **options,
    )
    # The custom-run form lists parameters by position: the few common choices (model
    # family, hyperparameters, ...) first, the whole config, a long nested form, last.
    parameters = deployment._parameter_openapi_schema.properties
    if "config" in parameters:
        parameters["config"]["position"] = len(parameters)
    return deployment
