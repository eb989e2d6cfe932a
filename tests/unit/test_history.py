"""The alias history: moves as registry tags and back, and what a rollback returns to."""

import json

import pytest

from retrainer.domain.history import (
    AliasMove,
    HistoryError,
    champion_line,
    next_seq,
    parse_history,
    rollback_target,
)


def _move(seq: int, to: str, action: str = "retrain", alias: str = "champion") -> AliasMove:
    return AliasMove(seq, f"2026-11-0{seq}T06:00:00+00:00", alias, None, to, action, "why", "ana")


def test_a_move_round_trips_through_a_registry_tag():
    move = AliasMove(7, "2026-11-24T06:00:00+00:00", "champion", "1", "2", "promote", "ok", "ana")

    key, value = move.tag()

    assert key == "alias_history.000007"
    assert parse_history({key: value, "owner": "team"}) == [move]


def test_history_is_in_sequence_order_and_numbers_go_on():
    moves = [_move(2, "2"), _move(1, "1"), _move(10, "3")]
    tags = dict(move.tag() for move in moves)

    assert [m.seq for m in parse_history(tags)] == [1, 2, 10]
    assert next_seq(parse_history(tags)) == 11 and next_seq([]) == 1


def test_a_long_reason_is_cut_in_the_tag():
    _, value = AliasMove(1, "t", "champion", None, "1", "retrain", "x" * 9000, "ana").tag()
    assert len(json.loads(value)["reason"]) == 2000


def test_a_tag_that_is_not_a_move_is_named():
    with pytest.raises(HistoryError, match=r"alias_history\.000003 is not an alias move"):
        parse_history({"alias_history.000003": '{"seq": 3}'})


def test_rollback_walks_back_through_promotions_not_forth():
    moves = [
        _move(1, "1"),
        _move(2, "2", alias="challenger"),  # challenger moves do not change the line
        _move(3, "2", action="promote"),
        _move(4, "3"),
    ]
    assert champion_line(moves) == ["1", "2", "3"]
    assert rollback_target(moves, "3") == "2"

    moves.append(_move(5, "2", action="rollback"))
    assert rollback_target(moves, "2") == "1"  # a second rollback goes further back


@pytest.mark.parametrize(
    ("champion", "why"),
    [
        (None, "no champion to roll back"),
        ("1", "first champion"),
        ("9", "was not set through retrainer"),
    ],
)
def test_rollback_says_why_it_cannot(champion, why):
    with pytest.raises(HistoryError, match=why):
        rollback_target([_move(1, "1")], champion)


def test_a_champion_from_before_the_history_is_one_to_return_to():
    promoted = AliasMove(1, "t", "champion", "1", "2", "promote", "better", "ana")
    assert champion_line([promoted]) == ["1", "2"]
    assert rollback_target([promoted], "2") == "1"
