"""Human approval of a promotion: what the reviewer said, and the decision that follows."""

from dataclasses import dataclass, replace

from retrainer.domain.promotion import Decision


@dataclass(frozen=True)
class Verdict:
    """A reviewer's answer to a promotion request, or the lack of one."""

    approved: bool
    reviewer: str
    comment: str
    timed_out: bool = False


def review(decision: Decision, verdict: Verdict, champion_now: str | None) -> Decision:
    """The gate's decision after review: promote only if approved and nothing moved meanwhile."""
    if not decision.promote:
        return decision
    who = verdict.reviewer or "a reviewer"
    said = f" ({verdict.comment})" if verdict.comment else ""
    if verdict.timed_out:
        return _not_promoted(decision, f"no approval: {verdict.comment}; not promoted")
    if not verdict.approved:
        return _not_promoted(decision, f"rejected by {who}{said}")
    if champion_now != decision.champion_before:
        # Another run promoted while this one waited: the comparison is stale.
        return _not_promoted(
            decision,
            f"approved by {who}, but the champion moved from "
            f"{_version(decision.champion_before)} to {_version(champion_now)} while waiting; "
            "retrain to compare with the new champion",
        )
    return replace(decision, reason=f"{decision.reason}; approved by {who}{said}", approved_by=who)


def _not_promoted(decision: Decision, why: str) -> Decision:
    return replace(
        decision, promote=False, decision="rejected", reason=f"{why} (gate: {decision.reason})"
    )


def _version(version: str | None) -> str:
    return "none" if version is None else f"v{version}"
