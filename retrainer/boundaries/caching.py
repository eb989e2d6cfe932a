"""Cache keys for the stages that only depend on the lake's content, the config and the code.

Prefect's default cache key includes the flow run, so nothing is reused across runs. These
stages (the training table and its validation) are keyed instead on a hash of the sources'
manifests (which change with every commit, correction or erasure), the config sections
that shape the data, the training suite and the source of the pure functions that compute
them. A run started again after a crash, or a scheduled run on unchanged data, loads their
results instead of recomputing them. DataFrame arguments stay out of the key: hashing them
is slow (prefect#17547), and the manifests already say what they hold.
"""

import hashlib
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from prefect.cache_policies import TASK_SOURCE, CacheKeyFnPolicy, CachePolicy
from prefect.utilities.hashing import hash_objects

from retrainer.boundaries.lake import Lake
from retrainer.boundaries.settings import expectations_dir, home

DOMAIN = Path(__file__).resolve().parents[1] / "domain"
# Sections of the config that do not change the training table or its validation.
NOT_DATA = {"model", "promotion", "evaluation", "mlflow"}
EXPIRATION = timedelta(days=30)


@cache
def code_fingerprint() -> str:
    """A hash of the pure functions that turn the lake into a training table."""
    digest = hashlib.sha256()
    for path in sorted(DOMAIN.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def data_key(context: Any, parameters: dict[str, Any]) -> str | None:
    """Key of a stage whose input is the lake's content as the ``config`` parameter reads it."""
    config = parameters["config"]
    suite = expectations_dir() / config.training_suite
    return hash_objects(
        Lake(home().lake).fingerprint([s.name for s in config.sources]),
        config.model_dump(mode="json", exclude=NOT_DATA),
        suite.read_bytes() if suite.exists() else b"",
        code_fingerprint(),
    )


LAKE_CONTENT: CachePolicy = TASK_SOURCE + CacheKeyFnPolicy(cache_key_fn=data_key)
