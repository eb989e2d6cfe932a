"""Alias moves: a race between two retrains, a failed record, and moves by hand (CLI, flows)."""

import contextvars
import os
import threading
from pathlib import Path

import pytest
from mlflow import MlflowClient
from prefect import flow
from prefect.transactions import transaction
from typer.testing import CliRunner

from flows.aliases import promote, rollback
from retrainer.boundaries import aliases, tracking
from retrainer.boundaries.settings import Home, environment_defaults
from retrainer.domain.config import RetrainConfig
from retrainer.domain.promotion import Decision
from retrainer.domain.records import LoggedModel
from retrainer.operations.cli import app
from tasks.registry import move_aliases, record_decision

pytestmark = pytest.mark.flow
MODEL = "flights-delay"


def _registry(versions: int) -> dict[str, str]:
    """A registered model with ``versions`` versions (each with its run), v1 the champion."""
    client = MlflowClient()
    experiment = client.create_experiment("aliases")
    client.create_registered_model(MODEL)
    runs = {}
    for _ in range(versions):
        run = client.create_run(experiment).info.run_id
        version = client.create_model_version(MODEL, f"file:///nowhere/{run}", run_id=run)
        runs[str(version.version)] = run
    client.set_registered_model_alias(MODEL, "champion", "1")
    return runs


def _gate_said_promote(version: str) -> Decision:
    return Decision(True, "promoted", f"v{version} beats v1", "roc_auc", 0.71, 0.70, "1")


@flow
def commit(config: RetrainConfig, logged: LoggedModel, decision: Decision) -> Decision:
    """The retrain flow's last step, alone: compare-and-set under the lock, then record."""
    with aliases.registry_lock(logged.model), transaction():
        moved = move_aliases(logged, decision, f"retrain-flights-v{logged.version}")
        return record_decision(config, logged, moved)


def test_two_retrains_racing_end_with_one_champion_and_both_decisions(
    flights_config: RetrainConfig, home: Path
):
    runs = _registry(3)
    both_scored = threading.Barrier(2)
    decided = {}

    def retrain_finishing(version: str) -> None:
        both_scored.wait()  # each compared itself with champion v1 before either moves
        logged = LoggedModel(runs[version], "0", MODEL, version)
        decided[version] = commit(flights_config, logged, _gate_said_promote(version))

    racers = [
        threading.Thread(target=contextvars.copy_context().run, args=(retrain_finishing, v))
        for v in ("2", "3")
    ]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=120)

    winner = tracking.alias_version(MODEL, tracking.CHAMPION)
    loser = ({"2", "3"} - {winner}).pop()
    assert decided[winner].decision == "promoted"
    assert decided[loser].decision == "rejected"
    assert decided[loser].reason.startswith(f"the champion moved from v1 to v{winner}")
    assert tracking.alias_version(MODEL, tracking.CHALLENGER) == loser
    tags = {v: tracking.model_version(MODEL, v).tags["promotion.decision"] for v in ("2", "3")}
    assert tags == {winner: "promoted", loser: "rejected"}
    moves = [(m.alias, m.from_version, m.to_version) for m in aliases.history(MODEL)]
    assert moves == [("champion", "1", winner), ("challenger", None, loser)]
    assert aliases.history(MODEL)[0].by == f"retrain run retrain-flights-v{winner}"


def test_a_decision_that_cannot_be_recorded_moves_nothing(
    flights_config: RetrainConfig, home: Path
):
    runs = _registry(2)
    MlflowClient().delete_run(runs["2"])  # the registry will refuse to tag this run
    logged = LoggedModel(runs["2"], "0", MODEL, "2")

    state = commit(flights_config, logged, _gate_said_promote("2"), return_state=True)

    assert state.is_failed()
    assert tracking.alias_version(MODEL, tracking.CHAMPION) == "1"  # put back
    version = tracking.model_version(MODEL, "2")
    assert version.tags["promotion.decision"].startswith("not applied")
    assert aliases.history(MODEL) == []


@pytest.fixture
def cli_environment(home: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The CLI sets its environment defaults; restore them after the test."""
    for key, value in environment_defaults(Home(home)).items():
        monkeypatch.setenv(key, os.environ.get(key, value))
    return CliRunner()


def test_promote_rollback_and_history_by_hand_and_as_flows(cli_environment: CliRunner):
    _registry(3)
    cli = cli_environment

    by_hand = cli.invoke(app, ["promote", "2", "--reason", "better on EWR", "--by", "ana"])
    assert by_hand.exit_code == 0, by_hand.output
    assert "flights-delay@champion: v1 -> v2 (promote by ana; history #1)" in by_hand.output

    back = rollback(model=MODEL, reason="v2 late on Mondays", requested_by="ops")
    assert (back.from_version, back.to_version, back.by) == ("2", "1", "ops")

    flow_move = promote(model=MODEL, version=3, reason="hand-checked")
    assert flow_move.by == "flow run promote-flights-delay-v3"
    assert tracking.alias_version(MODEL, tracking.CHAMPION) == "3"

    shown = cli.invoke(app, ["history"])
    assert shown.exit_code == 0
    lines = [line.split() for line in shown.output.splitlines() if line.strip().startswith("#")]
    assert [(line[0], line[2], line[3], line[5], line[6]) for line in lines] == [
        ("#1", "champion", "v1", "v2", "promote"),
        ("#2", "champion", "v2", "v1", "rollback"),
        ("#3", "champion", "v1", "v3", "promote"),
    ]
    assert "why: v2 late on Mondays" in shown.output
    assert (
        tracking.model_version(MODEL, "3")
        .tags["champion.since"]
        .endswith("promote by flow run promote-flights-delay-v3: hand-checked")
    )

    missing = cli.invoke(app, ["promote", "9", "--reason", "typo"])
    assert missing.exit_code == 1 and "flights-delay has no version 9" in missing.output
    unsaid = cli.invoke(app, ["promote", "2", "--reason", " "])
    assert unsaid.exit_code == 1 and "needs a reason" in unsaid.output
    assert tracking.alias_version(MODEL, tracking.CHAMPION) == "3"
