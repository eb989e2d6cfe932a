"""Human review of a promotion: only an approval, given in time, moves the champion."""

import pytest

from retrainer.domain.approval import Verdict, review
from retrainer.domain.promotion import Decision


def _gate(promote: bool = True, champion: str | None = "3") -> Decision:
    return Decision(
        promote=promote,
        decision="promoted" if promote else "rejected",
        reason="test roc_auc 0.70 beats champion v3 0.68",
        metric="roc_auc",
        challenger_metric=0.70,
        champion_metric=0.68,
        champion_before=champion,
    )


def test_an_approval_keeps_the_promotion_and_says_who():
    after = review(_gate(), Verdict(True, "ana", "looked at the PR curve"), champion_now="3")

    assert after.promote and after.decision == "promoted"
    assert after.reason.endswith("approved by ana (looked at the PR curve)")


@pytest.mark.parametrize(
    ("verdict", "why"),
    [
        (Verdict(False, "ana", "too few test rows"), "rejected by ana (too few test rows)"),
        (Verdict(False, "", "no decision within 60 s", timed_out=True), "no decision within 60 s"),
    ],
)
def test_a_rejection_or_a_timeout_promotes_nothing(verdict, why):
    after = review(_gate(), verdict, champion_now="3")

    assert not after.promote and after.decision == "rejected"
    assert why in after.reason and "(gate: test roc_auc 0.70" in after.reason


def test_an_approval_is_void_when_the_champion_moved_while_waiting():
    after = review(_gate(champion="3"), Verdict(True, "ana", ""), champion_now="5")

    assert not after.promote
    assert "champion moved from v3 to v5" in after.reason


def test_a_rejected_gate_is_never_promoted_by_a_review():
    gate = _gate(promote=False)

    assert review(gate, Verdict(True, "ana", ""), champion_now="3") == gate
