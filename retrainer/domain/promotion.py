"""The promotion gate: may a new model version take the ``champion`` alias?

Promote only when the gain over the champion, on the same rows, exceeds
``min_improvement``, a paired test finds it real at ``significance_level``, and no
configured slice loses more than ``slice_tolerance``. Every verdict says why, with the
numbers; nothing here talks to a registry.
"""

from dataclasses import asdict, dataclass, replace

from retrainer.domain.comparison import Comparison
from retrainer.domain.config import PromotionConfig

PROMOTED, REJECTED, NOT_COMPARED, NO_CHANGE = "promoted", "rejected", "not compared", "no change"


@dataclass(frozen=True)
class ChampionEvidence:
    """What is known about the champion for this run's gate.

    ``version`` None: there is no champion yet. ``comparison`` None with a version: no
    comparison was made, ``not_compared`` says why (e.g. it was trained on the test months).
    """

    version: str | None
    comparison: Comparison | None = None
    not_compared: str | None = None
    promote_anyway: bool = False  # promotion.on_overlap says to promote without comparing


@dataclass
class Decision:
    """The gate's verdict, with the numbers it compared and why."""

    promote: bool
    decision: str  # promoted | rejected | not compared
    reason: str
    metric: str
    challenger_metric: float
    champion_metric: float | None
    champion_before: str | None
    comparison: Comparison | None = None
    approved_by: str | None = None

    def as_dict(self) -> dict:
        """Plain dict, for tags and artifacts."""
        return asdict(self)


def decide(challenger: float, champion: ChampionEvidence, config: PromotionConfig) -> Decision:
    """The verdict for a challenger with test ``challenger`` metric, given the champion."""
    m = config.metric

    def verdict(decision: str, reason: str) -> Decision:
        compared = champion.comparison
        return Decision(
            promote=decision == PROMOTED,
            decision=decision,
            reason=reason,
            metric=m,
            challenger_metric=compared.challenger_value if compared else challenger,
            champion_metric=compared.champion_value if compared else None,
            champion_before=champion.version,
            comparison=compared,
        )

    lower = config.lower_is_better
    if lower and config.max_value is not None and not challenger <= config.max_value:
        return verdict(
            REJECTED, f"test {m} {challenger:.4f} is above the ceiling {config.max_value}"
        )
    if not lower and not challenger >= config.min_value:
        return verdict(REJECTED, f"test {m} {challenger:.4f} is below the floor {config.min_value}")
    if champion.version is None:
        return verdict(PROMOTED, f"first model: no champion yet; test {m} {challenger:.4f}")
    if champion.comparison is None:
        why = champion.not_compared or "no comparison was made"
        if champion.promote_anyway:
            return verdict(
                PROMOTED,
                f"not compared with champion v{champion.version} ({why}); promotion.on_overlap "
                f"is promote_anyway; test {m} {challenger:.4f}",
            )
        return verdict(
            NOT_COMPARED,
            f"not compared with champion v{champion.version}: {why}. The champion stays; "
            "promote this version by hand (`retrainer promote VERSION --reason ...`) if intended",
        )
    return _judge(champion.comparison, config, verdict)


def _judge(c: Comparison, config: PromotionConfig, verdict) -> Decision:
    s = c.significance
    evidence = (
        f"test {c.metric} {c.challenger_value:.4f} vs {c.champion_value:.4f} on {s.rows} rows: "
        f"gain {s.gain:+.4f} ({s.level:.0%} CI {s.low:+.4f} to {s.high:+.4f}), "
        f"{s.method} p {format_p(s.p_value)}"
    )
    failures = []
    if not s.gain > config.min_improvement:
        failures.append(f"gain {s.gain:+.4f} is not above min_improvement {config.min_improvement}")
    if not s.p_value < config.significance_level:
        failures.append(f"not significant (p {format_p(s.p_value)} >= {config.significance_level})")
    losing = [r for r in c.slices if r.loses]
    if losing:
        worst = ", ".join(f"{r.column}={r.value} {r.change:+.4f} ({r.rows} rows)" for r in losing)
        failures.append(f"{len(losing)} slice(s) lose more than {config.slice_tolerance}: {worst}")
    if failures:
        return verdict(
            REJECTED,
            f"does not beat champion v{c.champion_version}: {'; '.join(failures)}. {evidence}",
        )
    checked = sum(r.gated for r in c.slices)
    slices = (
        f"; none of {checked} slices loses more than {config.slice_tolerance}" if checked else ""
    )
    return verdict(
        PROMOTED, f"beats champion v{c.champion_version}: {evidence}{slices if checked else ''}"
    )


def format_p(p: float) -> str:
    """A p-value as people read it: ``<0.0001`` rather than ``3.2e-43``."""
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"


def settle(decision: Decision, champion_now: str | None) -> Decision:
    """The decision as it stands at the alias move: void if the champion moved since scoring."""
    if not decision.promote or champion_now == decision.champion_before:
        return decision
    before = "none" if decision.champion_before is None else f"v{decision.champion_before}"
    return replace(
        decision,
        promote=False,
        decision=REJECTED,
        reason=(
            f"the champion moved from {before} to v{champion_now} after this run compared "
            f"with it; retrain to compare with v{champion_now} (gate: {decision.reason})"
        ),
    )


def unavailable(challenger: float, champion: str | None, why: str, metric: str) -> Decision:
    """The verdict when the champion could not be looked up, loaded or scored: no promotion."""
    return Decision(
        promote=False,
        decision=NOT_COMPARED,
        reason=f"not compared: {why}",
        metric=metric,
        challenger_metric=challenger,
        champion_metric=None,
        champion_before=champion,
    )


def decision_tags(decision: Decision) -> dict[str, str]:
    """The decision as tags on the version and its run (``promotion.json`` has everything)."""
    tags = {
        "promotion.decision": decision.decision,
        "promotion.reason": decision.reason[:5000],  # run tags hold 8,000 characters
        "promotion.champion_before": str(decision.champion_before),
    }
    if decision.comparison is not None:
        s = decision.comparison.significance
        losing = [f"{r.column}={r.value}" for r in decision.comparison.slices if r.loses]
        tags |= {
            "promotion.gain": f"{s.gain:+.6f}",
            "promotion.interval": f"{s.level:.0%} CI {s.low:+.6f} to {s.high:+.6f}",
            "promotion.p_value": format_p(s.p_value),
            "promotion.test": s.method,
            "promotion.slices_losing": ", ".join(losing) or "none",
        }
    return tags
