"""Nothing twice: the identity of a training (its data and the config that shapes the model).

A retrain whose training table and training config equal those of a version already judged
against today's champion would train the same model and reach the same verdict: it records
"no change" and registers nothing.
"""

import hashlib
import json
from dataclasses import dataclass

from retrainer.domain.config import RetrainConfig
from retrainer.domain.promotion import PROMOTED, REJECTED

# The config sections that change the trained model. Left out: sources (their effect is in
# the data hash), the gate, evaluation, explanations, MLflow names, and model.threads
# (speed only).
TRAINING_FIELDS = {"base", "lookups", "target", "features", "split", "model", "sample_fraction"}
DATA_TAG, CONFIG_TAG = "training_data_sha256", "training_config_sha256"


def training_config_hash(config: RetrainConfig) -> str:
    """SHA-256 of the parts of a config that change the trained model."""
    relevant = config.model_dump(
        mode="json", include=TRAINING_FIELDS, exclude={"model": {"threads"}}
    )
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Fingerprint:
    """The training table's hash and the training config's hash."""

    data_sha256: str
    config_sha256: str

    def tags(self) -> dict[str, str]:
        """As tags on a run and a model version."""
        return {DATA_TAG: self.data_sha256, CONFIG_TAG: self.config_sha256}


@dataclass(frozen=True)
class PastTraining:
    """A registered version trained on the same data with the same config, and its verdict."""

    version: str
    run_id: str
    decision: str | None
    champion_before: str | None


def already_judged(matches: list[PastTraining], champion: str | None) -> PastTraining | None:
    """The newest same-fingerprint version that is the champion or was judged against it.

    A version that was "not compared" (the champion could not be scored) or was compared
    with an earlier champion does not count: that question is still open.
    """
    for past in sorted(matches, key=lambda p: int(p.version), reverse=True):
        if past.version == champion:
            return past
        if past.decision in (PROMOTED, REJECTED) and past.champion_before == champion:
            return past
    return None


def no_change_reason(fingerprint: Fingerprint, past: PastTraining, champion: str | None) -> str:
    """Why nothing was trained or registered, and how to retrain anyway."""
    against = f"champion v{champion}" if champion else "no champion"
    what = "it is the champion" if past.version == champion else f"{past.decision}, {against}"
    return (
        f"training data {fingerprint.data_sha256[:12]} and training config "
        f"{fingerprint.config_sha256[:12]} are those of v{past.version} ({what}); nothing "
        "trained or registered (force=true, `retrainer run --force`, retrains anyway)"
    )


@dataclass(frozen=True)
class Unchanged:
    """A retrain that found its training already done: which version, and its test metrics."""

    past: PastTraining
    alias: str  # the alias that version holds now, or "-"
    reason: str
    metrics: dict[str, float]
