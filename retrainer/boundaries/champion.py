"""The current champion, loaded from the MLflow registry and scored on this run's test rows."""

from dataclasses import dataclass

from retrainer.boundaries import tracking
from retrainer.domain.config import RetrainConfig
from retrainer.domain.evaluation import score
from retrainer.domain.features import Split


@dataclass(frozen=True)
class ChampionScore:
    """The champion's version (None: no champion yet) and its test metrics (None: unscorable)."""

    version: str | None
    metrics: dict | None
    problem: str | None = None


def score_champion(config: RetrainConfig, split: Split, tracking_uri: str) -> ChampionScore:
    """Score the model under the ``champion`` alias on ``split.test``, with its own threshold."""
    tracking.connect(tracking_uri)
    model = config.mlflow.registered_model
    version = tracking.alias_version(model, tracking.CHAMPION)
    if version is None:
        return ChampionScore(None, None)
    threshold = tracking.version_threshold(model, version)
    try:
        metrics = score(config, tracking.load_model(model, version), split.test, threshold)
    except (KeyError, ValueError, AttributeError) as exc:
        return ChampionScore(
            version, None, f"champion v{version} cannot score this test set: {exc}"
        )
    return ChampionScore(version, metrics)
