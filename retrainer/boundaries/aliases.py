"""Moving ``champion`` and ``challenger``: compare-and-set under a lock, recorded in the registry.

Every alias move of the project goes through here: the retrain's gate, a forced promotion,
a rollback. Each holds the model's registry lock (an ``flock`` under RETRAINER_HOME, so it
holds with or without a Prefect server, for every process sharing the home), checks that the
champion is still the version the caller expects, moves the alias, and only then records the
move: a registered-model tag per move (the history both UIs and the CLI show) and tags on
the versions. If recording fails the alias is put back, so the record never disagrees with
the registry.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime

from retrainer.boundaries import tracking
from retrainer.boundaries.locks import file_lock
from retrainer.boundaries.settings import home
from retrainer.domain.history import (
    ROLLBACK,
    AliasMove,
    HistoryError,
    next_seq,
    parse_history,
    rollback_target,
)

LOCK_TIMEOUT_SECONDS = 120.0  # alias moves take well under a second; longer means a stuck holder
PROMOTE = "promote"


class MoveRefused(ValueError):
    """A move by hand that cannot be made: no reason, no such version, nothing to roll back."""


@contextmanager
def registry_lock(registered_model: str) -> Iterator[None]:
    """Hold this model's alias lock for the block (every process sharing RETRAINER_HOME)."""
    with file_lock(home().locks / f"registry-{registered_model}.lock", LOCK_TIMEOUT_SECONDS):
        yield


def now() -> str:
    """The current time, ISO 8601 in UTC, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def move_alias(
    registered_model: str,
    alias: str,
    version: str,
    *,
    action: str,
    reason: str,
    by: str,
    run: str = "",
) -> AliasMove:
    """Point ``alias`` at ``version``; the move (not yet recorded) says where it was before."""
    before = tracking.alias_version(registered_model, alias)
    tracking.set_alias(registered_model, alias, version)
    return AliasMove(0, now(), alias, before, version, action, reason, by, run)


def restore(registered_model: str, move: AliasMove) -> None:
    """Undo ``move``: the alias back where it was (or removed, if it pointed nowhere)."""
    if move.from_version is None:
        tracking.delete_alias(registered_model, move.alias)
    else:
        tracking.set_alias(registered_model, move.alias, move.from_version)


def record_move(registered_model: str, move: AliasMove) -> AliasMove:
    """Append ``move`` to the model's history (call under the lock); returns it numbered."""
    numbered = replace(move, seq=next_seq(history(registered_model)))
    key, value = numbered.tag()
    tracking.set_registered_model_tag(registered_model, key, value)
    if numbered.alias == tracking.CHAMPION and numbered.to_version:
        note = f"{numbered.when} {numbered.action} by {numbered.by}: {numbered.reason}"
        tracking.set_tags(registered_model, numbered.to_version, None, {"champion.since": note})
    return numbered


def history(registered_model: str) -> list[AliasMove]:
    """Every recorded alias move of the model, oldest first."""
    return parse_history(tracking.registered_model_tags(registered_model))


def usable_version(registered_model: str, version: str) -> tracking.VersionInfo:
    """The version, if it exists and is ready; ``MoveRefused`` saying why otherwise."""
    info = tracking.model_version(registered_model, version)
    if info is None:
        raise MoveRefused(f"{registered_model} has no version {version}")
    if info.status != "READY":
        raise MoveRefused(f"{registered_model} v{version} is {info.status}, not READY")
    return info


def _move_and_record(registered_model: str, version: str, **move: str) -> AliasMove:
    """Move ``champion`` to ``version`` and record it; on a failed record, put it back."""
    if not move["reason"].strip():
        raise MoveRefused("say why: a move by hand needs a reason (--reason)")
    moved = move_alias(registered_model, tracking.CHAMPION, version, **move)
    try:
        return record_move(registered_model, moved)
    except Exception:
        restore(registered_model, moved)
        raise


def promote(registered_model: str, version: str, reason: str, by: str, run: str = "") -> AliasMove:
    """Make ``version`` the champion by hand, whatever the gate said; recorded with the reason."""
    with registry_lock(registered_model):
        usable_version(registered_model, version)
        if tracking.alias_version(registered_model, tracking.CHAMPION) == version:
            raise MoveRefused(f"{registered_model} v{version} is already the champion")
        return _move_and_record(
            registered_model, version, action=PROMOTE, reason=reason, by=by, run=run
        )


def rollback(registered_model: str, reason: str, by: str, run: str = "") -> AliasMove:
    """Give ``champion`` back to the champion before the current one."""
    with registry_lock(registered_model):
        current = tracking.alias_version(registered_model, tracking.CHAMPION)
        try:
            target = rollback_target(history(registered_model), current)
        except HistoryError as exc:
            raise MoveRefused(str(exc)) from exc
        usable_version(registered_model, target)
        return _move_and_record(
            registered_model, target, action=ROLLBACK, reason=reason, by=by, run=run
        )
