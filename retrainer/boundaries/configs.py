"""Config files on disk: what a run's config changed relative to its data set's file."""

from typing import Any

from retrainer.boundaries.settings import config_path
from retrainer.domain.config import RetrainConfig, load_config
from retrainer.domain.overrides import differences


def config_overrides(config: RetrainConfig) -> dict[str, Any]:
    """The fields this config changed relative to ``configs/<name>.yaml``, by dotted path.

    Empty when there is no such file (a config of its own is not an override of anything).
    """
    path = config_path(config.name)
    if not path.exists():
        return {}
    return differences(load_config(path).model_dump(mode="json"), config.model_dump(mode="json"))
