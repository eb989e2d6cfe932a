"""Human approval before a model version becomes champion: a paused run with a form.

A subflow of ``retrain``, not a pause of the retrain run itself: Prefect 3.8 releases a
deployment's concurrency slot when a run pauses, and the paused run's engine then fails to
renew its lease and crashes it about four minutes in (measured). The parent keeps running,
so it keeps its slot, and no other retrain of the model starts while a reviewer decides.
"""

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from pydantic import Field

from retrainer.domain.approval import Verdict

POLL_SECONDS = 2  # how soon the run notices the reviewer's answer


class PromotionApproval(RunInput):
    """The form on the paused run's page in the Prefect UI (the Resume button)."""

    approve: bool = Field(default=False, description="Make this version the champion")
    reviewer: str = Field(default="", description="Who decided")
    comment: str = Field(default="", description="Why")


@flow(name="approve-promotion", flow_run_name="approve-{model}-v{version}")
def approve_promotion(model: str, version: str, reason: str, timeout_seconds: int) -> Verdict:
    """Wait for a reviewer to approve or reject the promotion; no answer in time is a no."""
    create_markdown_artifact(
        key="approval-request",
        markdown=(
            f"### Promote {model} v{version} to `champion`?\n\n"
            f"The gate says: {reason}.\n\n"
            f"Resume this run and fill in the form within {timeout_seconds} s; "
            "without an answer nothing is promoted."
        ),
        description="What the reviewer is asked",
    )
    try:
        answer = pause_flow_run(
            wait_for_input=PromotionApproval, timeout=timeout_seconds, poll_interval=POLL_SECONDS
        )
    except FlowPauseTimeout:
        # Prefect then marks this subflow Failed ("never resumed"); the parent gets the
        # verdict and completes, keeping the new version as challenger.
        return Verdict(False, "", f"no decision within {timeout_seconds} s", timed_out=True)
    return Verdict(answer.approve, answer.reviewer, answer.comment)
