"""The promotion gate: may a new model version take the ``champion`` alias?"""

from dataclasses import asdict, dataclass

from retrainer.domain.config import PromotionConfig


@dataclass
class Decision:
    """The gate's verdict, with the numbers it compared and why."""

    promote: bool
    decision: str  # promoted | rejected
    reason: str
    metric: str
    challenger_metric: float
    champion_metric: float | None
    champion_before: str | None

    def as_dict(self) -> dict:
        """Plain dict, for tags and artifacts."""
        return asdict(self)


def decide(
    challenger: float,
    champion: float | None,
    champion_version: str | None,
    config: PromotionConfig,
) -> Decision:
    """Compare challenger and champion on the same test rows, by the configured metric."""
    m = config.metric

    def verdict(promote: bool, reason: str) -> Decision:
        return Decision(
            promote=promote,
            decision="promoted" if promote else "rejected",
            reason=reason,
            metric=m,
            challenger_metric=challenger,
            champion_metric=champion,
            champion_before=champion_version,
        )

    lower = config.lower_is_better
    if lower and config.max_value is not None and not challenger <= config.max_value:
        return verdict(False, f"test {m} {challenger:.4f} is above the ceiling {config.max_value}")
    if not lower and not challenger >= config.min_value:
        return verdict(False, f"test {m} {challenger:.4f} is below the floor {config.min_value}")
    if champion_version is None:
        return verdict(True, f"first model: no champion yet; test {m} {challenger:.4f}")
    if champion is None:
        return verdict(
            False,
            f"champion v{champion_version} could not be scored on the current test set "
            "(its inputs differ); promote by hand with `retrainer promote` if intended",
        )
    margin = champion - challenger if lower else challenger - champion  # > 0: an improvement
    if margin > config.min_improvement:
        return verdict(
            True,
            f"test {m} {challenger:.4f} beats champion v{champion_version} {champion:.4f} "
            f"by {margin:+.4f} (needed > {config.min_improvement})",
        )
    return verdict(
        False,
        f"test {m} {challenger:.4f} does not beat champion v{champion_version} {champion:.4f} "
        f"by more than {config.min_improvement} (margin {margin:+.4f})",
    )
