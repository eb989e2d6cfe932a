"""When each value becomes known, from what the sources declare, and the guard built on it.

A source declares the instant its events happen (``event_time``), when a whole record is
known (``available_after_minutes`` after its time: a weather reading labelled 10:00 is
taken at 10:51 and published after that) and when single columns are known later
(``known_at``: a flight's departure delay at its actual departure). Anything not declared
is known in advance (a timetable, a reference table). The leakage guard compares those
instants, row by row, with the prediction time: it checks times, not column names.
"""

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from retrainer.domain.config import SourceConfig, TimeExpr


class LeakageError(ValueError):
    """A feature would use information that is known only after the prediction time."""


def utc(times: pd.Series) -> pd.Series:
    """Instants as UTC timestamps with one resolution, so that they compare and merge."""
    return pd.to_datetime(times, utc=True).dt.as_unit("us")


def instant(frame: pd.DataFrame, expr: "TimeExpr", source: "SourceConfig") -> pd.Series:
    """The instant ``expr`` describes, per record (NaT where a column it uses is missing)."""
    start = utc(frame[expr.column or source.time_column or ""])
    minutes = pd.Series(expr.offset_minutes, index=frame.index, dtype="float64")
    for column in expr.add_minutes:
        minutes = minutes + pd.to_numeric(frame[column], errors="coerce").astype("float64")
    earliest = start + pd.to_timedelta(minutes, unit="min")
    if expr.clock is None:
        return earliest
    return _next_clock(earliest, frame[expr.clock], frame[expr.clock_timezone or ""])


def _next_clock(earliest: pd.Series, clock: pd.Series, zones: pd.Series) -> pd.Series:
    """The first instant at or after ``earliest`` whose local time (in ``zones``) is ``clock``.

    One vectorised pass per time zone. A local time that occurs twice (the autumn DST
    change) is read as the later one, so a value is never taken as known too early; one
    that never occurs (skipped in spring) is a broken record, and stays unknown.
    """
    hhmm = pd.to_numeric(clock, errors="coerce")
    of_day = pd.to_timedelta((hhmm // 100 % 24) * 60 + hhmm % 100, unit="min")
    out = pd.Series(pd.NaT, index=earliest.index, dtype=earliest.dtype)
    for zone, rows in zones.groupby(zones, sort=True).groups.items():
        local = earliest[rows].dt.tz_convert(str(zone)).dt.tz_localize(None)
        candidate = local.dt.normalize() + of_day[rows]
        candidate = candidate.where(candidate >= local, candidate + pd.Timedelta(days=1))
        later = np.zeros(len(rows), dtype=bool)  # False: standard time, the later reading
        aware = candidate.dt.tz_localize(str(zone), ambiguous=later, nonexistent="NaT")
        out[rows] = aware.dt.tz_convert("UTC")
    return out


def event_times(frame: pd.DataFrame, source: "SourceConfig") -> pd.Series:
    """When each record's event happens: ``event_time`` if declared, else its time column."""
    if source.event_time is not None:
        return instant(frame, source.event_time, source)
    return utc(frame[source.time_column or ""])


def known_times(frame: pd.DataFrame, source: "SourceConfig", column: str) -> pd.Series | None:
    """When ``column`` of each record becomes known; None when it is known in advance."""
    if column in source.known_at:
        return instant(frame, source.known_at[column], source)
    return record_known(frame, source)


def record_known(frame: pd.DataFrame, source: "SourceConfig") -> pd.Series | None:
    """When a whole record becomes known; None when the source is known in advance."""
    if source.available_after_minutes is None:
        return None
    delay = pd.Timedelta(minutes=source.available_after_minutes)
    return utc(frame[source.time_column or ""]) + delay


def check_known_by(
    known: dict[str, pd.Series | None], cutoff: pd.Series, keys: pd.DataFrame, horizon: float
) -> None:
    """Raise ``LeakageError`` for every feature with a value known after a row's cutoff.

    ``known`` maps each feature to when the latest information it uses became known, per
    row (None: known in advance). A row is fine when that instant is at or before its
    cutoff (the scheduled event time minus the horizon).
    """
    problems = []
    for feature, times in known.items():
        if times is None:
            continue
        late = (times > cutoff).to_numpy()
        if late.any():
            first = int(late.argmax())
            row = ", ".join(f"{k}={v}" for k, v in keys.iloc[first].items())
            problems.append(
                f"{feature}: {int(late.sum())} of {len(late)} rows use a value known after the "
                f"prediction time (e.g. {row}: known {times.iloc[first]}, prediction time "
                f"{cutoff.iloc[first]})"
            )
    if problems:
        raise LeakageError(
            f"features known only after the prediction time ({horizon} h before the event):\n  "
            + "\n  ".join(problems)
            + "\nremove them from `features`, or declare when they become known in the "
            "source's `known_at` / `available_after_minutes`"
        )
