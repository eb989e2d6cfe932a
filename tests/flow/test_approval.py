"""Optional human approval: the run pauses before `champion` moves, and only a yes moves it."""

import contextvars
import threading
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient

from flows.retrain import retrain
from retrainer.domain.config import RetrainConfig

pytestmark = pytest.mark.flow


def _answer_when_paused(answer: dict, timeout: float = 180.0) -> threading.Thread:
    """Resume the first paused flow run with ``answer``, as the UI's form does."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.flow_runs import resume_flow_run

    paused = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
    )

    def answer_it() -> None:
        deadline = time.monotonic() + timeout
        with get_client(sync_client=True) as client:
            while time.monotonic() < deadline:
                runs = client.read_flow_runs(flow_run_filter=paused)
                if runs:
                    try:
                        resume_flow_run(runs[0].id, run_input=answer)
                        return
                    except RuntimeError:
                        pass  # paused, but its form is not saved yet: ask again
                time.sleep(0.2)

    # The harness's API settings live in context variables, which threads do not inherit.
    thread = threading.Thread(target=contextvars.copy_context().run, args=(answer_it,))
    thread.start()
    return thread


def _approval_required(config: RetrainConfig, timeout_seconds: int) -> RetrainConfig:
    config = config.model_copy(deep=True)
    config.promotion.require_approval = True
    config.promotion.approval_timeout_seconds = timeout_seconds
    return config


def test_an_approved_promotion_moves_the_champion(flights_config: RetrainConfig, landed: Path):
    reviewer = _answer_when_paused({"approve": True, "reviewer": "ana", "comment": "ok"})

    summary = retrain(_approval_required(flights_config, timeout_seconds=180))
    reviewer.join(timeout=5)

    assert summary.decision == "promoted" and summary.alias == "champion"
    assert summary.reason.endswith("approved by ana (ok)")
    version = MlflowClient().get_model_version_by_alias("flights-delay", "champion")
    assert version.tags["promotion.reason"] == summary.reason


def test_without_an_answer_in_time_nothing_is_promoted(flights_config: RetrainConfig, landed: Path):
    summary = retrain(_approval_required(flights_config, timeout_seconds=2))

    assert summary.decision == "rejected" and summary.alias == "challenger"
    assert "no decision within 2 s" in summary.reason
    assert "first model: no champion yet" in summary.reason  # what the gate had said
    client = MlflowClient()
    aliases = client.get_registered_model("flights-delay").aliases
    assert {alias: str(version) for alias, version in aliases.items()} == {"challenger": "1"}
    assert client.get_model_version("flights-delay", "1").tags["promotion.decision"] == "rejected"
