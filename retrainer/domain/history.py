"""The alias history of a registered model: every move of ``champion`` and ``challenger``.

Kept in the registry itself as registered-model tags, one per move (``alias_history.000042``
holding a JSON object), so the MLflow UI, the CLI and the flows show the same record. This
module only turns moves into tags and back and reasons about them; writing is the registry
boundary's job.
"""

import json
from dataclasses import asdict, dataclass

PREFIX = "alias_history."
REASON_LIMIT = 2000  # characters; a registry tag holds more, a person reads less
CHAMPION = "champion"
ROLLBACK = "rollback"


class HistoryError(ValueError):
    """The history cannot answer: nothing to roll back to, or a tag that is not a move."""


@dataclass(frozen=True)
class AliasMove:
    """One move of an alias: when, from which version to which, why, by whom."""

    seq: int
    when: str  # ISO 8601, UTC
    alias: str
    from_version: str | None
    to_version: str | None
    action: str  # retrain | promote | rollback
    reason: str
    by: str
    run: str = ""  # the MLflow run or Prefect flow run that made the move

    def tag(self) -> tuple[str, str]:
        """The registered-model tag that records this move."""
        body = asdict(self)
        body["reason"] = self.reason[:REASON_LIMIT]
        return f"{PREFIX}{self.seq:06d}", json.dumps(body, sort_keys=True)


def version_label(version: str | None) -> str:
    """``v3``, or ``none`` for an alias that pointed nowhere."""
    return "none" if version is None else f"v{version}"


def parse_history(tags: dict[str, str]) -> list[AliasMove]:
    """Every move recorded in a registered model's tags, oldest first."""
    moves = []
    for key, value in tags.items():
        if not key.startswith(PREFIX):
            continue
        try:
            moves.append(AliasMove(**json.loads(value)))
        except (ValueError, TypeError) as exc:
            raise HistoryError(f"registered-model tag {key} is not an alias move: {exc}") from exc
    return sorted(moves, key=lambda move: move.seq)


def next_seq(moves: list[AliasMove]) -> int:
    """The sequence number of the next move."""
    return max((move.seq for move in moves), default=0) + 1


def champion_line(moves: list[AliasMove]) -> list[str]:
    """The champions in force, oldest first: a promotion pushes a version, a rollback pops one.

    A move's ``from_version`` counts too, so a champion set before the history began (or
    outside it) is still one to return to.
    """
    line: list[str] = []
    for move in moves:
        if move.alias != CHAMPION or move.to_version is None:
            continue
        if move.action == ROLLBACK and line:
            line.pop()
        elif move.from_version is not None and (not line or line[-1] != move.from_version):
            line.append(move.from_version)
        if not line or line[-1] != move.to_version:
            line.append(move.to_version)
    return line


def rollback_target(moves: list[AliasMove], champion_now: str | None) -> str:
    """The champion before the current one; a clear error when there is none to return to."""
    if champion_now is None:
        raise HistoryError("there is no champion to roll back")
    line = champion_line(moves)
    if not line or line[-1] != champion_now:
        raise HistoryError(
            f"the champion v{champion_now} was not set through retrainer (the recorded history "
            f"ends at {'v' + line[-1] if line else 'nothing'}); use `retrainer promote VERSION`"
        )
    if len(line) < 2:
        raise HistoryError(f"v{champion_now} is the first champion: there is none before it")
    return line[-2]
