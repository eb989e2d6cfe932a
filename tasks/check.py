"""Check stage: the config's column names against the sources, before any work is done."""

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from retrainer.boundaries.landed import landed_columns
from retrainer.boundaries.settings import home
from retrainer.domain.checks import check_columns
from retrainer.domain.config import ConfigError, RetrainConfig
from retrainer.domain.overrides import RunChoices, with_choices


@task(name="check-config", cache_policy=NO_CACHE)
def check_config(config: RetrainConfig, choices: RunChoices | None = None) -> RetrainConfig:
    """Gate: apply the run's choices, then check every column the config names; return it.

    Each column must exist in the sources' declared schema and, for the sources that have
    delivered, in what their deliveries carry: a typo fails here, in a second, with every
    problem named, not minutes later as a ``KeyError``.
    """
    config = with_choices(config, choices)
    check = check_columns(config, landed_columns(config, home().landing))
    for warning in check.warnings:
        get_run_logger().warning(warning)
    if not check.ok:
        raise ConfigError(
            f"config {config.name!r} names columns its sources do not have:\n"
            + "\n".join(f"  - {line}" for line in check.errors)
        )
    return config
