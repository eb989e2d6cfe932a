"""Windowed history features: what a group's past events had shown by each row's cutoff.

Vectorised, no loop per row. The events of one grouping are laid on a timeline sorted by
(group, instant), packed into one int64 per event, so that "the events of group g
strictly before instant t" is one binary search (``np.searchsorted``) for every row at
once. A window [start, cutoff) is then a slice of that timeline: counts and sums are
differences of running totals, min and max come from a sparse table of the slice. An
event enters a row's window only once its value is known, so nothing after the cutoff
reaches a feature. ``tests/data`` recomputes every feature by brute force on random rows of
the demo and compares.
"""

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from retrainer.domain.config import HistoryFeature

EVENT = "_event_time"  # when an event is scheduled (the row's own, or a source's event)
KNOWN = "_known_at"  # when an event's value became known
CUTOFF = "_prediction_time"
WINDOWLESS = ("latest", "age", "gap")
MIDNIGHT = "since_midnight"
# An instant is packed as (group << SHIFT) | milliseconds since the earliest event: 2^42 ms
# is 139 years, leaving 2^21 groups in a signed int64.
SHIFT = 42
MAX_GROUPS = 1 << (62 - SHIFT)


def _group_label(group: list[str]) -> str:
    return "_".join(group) if group else "all"


def _stat_label(stat: str, spec: "HistoryFeature") -> str:
    return f"share_above_{spec.above:g}" if stat == "share_above" else stat


def feature_names(spec: "HistoryFeature") -> list[str]:
    """The numeric features one history spec adds, in a stable order."""
    names = []
    for group in spec.groups:
        label = _group_label(group)
        for window in spec.windows:
            for stat in spec.stats:
                if stat not in WINDOWLESS:
                    names.append(f"{spec.name}_{_stat_label(stat, spec)}_{window}_{label}")
        names += [f"{spec.name}_{stat}_{label}" for stat in spec.stats if stat in WINDOWLESS]
    return names


def local_midnight(times: pd.Series, timezone: str, days: int = 0) -> pd.Series:
    """The local midnight (in ``timezone``) starting each instant's day (+ ``days``), in UTC."""
    local = times.dt.tz_convert(timezone).dt.tz_localize(None).dt.normalize()
    local = local + pd.Timedelta(days=days)
    aware = local.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="shift_forward")
    return aware.dt.tz_convert("UTC")


def _ms(times: pd.Series) -> np.ndarray:
    """UTC instants as int64 milliseconds; NaT becomes the int64 minimum."""
    naive = pd.to_datetime(times, utc=True).dt.tz_localize(None)
    return naive.to_numpy(dtype="datetime64[ms]").view("int64")


NAT = np.iinfo("int64").min  # numpy's own NaT, as an int64


def _instants(ms: np.ndarray, index: pd.Index) -> pd.Series:
    """int64 milliseconds (``NAT`` for none) back to UTC timestamps."""
    return pd.Series(ms.view("datetime64[ms]"), index=index).dt.tz_localize("UTC")


def group_codes(rows: pd.DataFrame, events: pd.DataFrame, keys: list[str]):
    """One integer per group, shared by rows and events; -1 where a key is missing."""
    both = pd.concat([rows[keys], events[keys]], ignore_index=True)
    codes = np.zeros(len(both), dtype="int64")
    for key in keys:
        own, _ = pd.factorize(both[key])
        valid = (codes >= 0) & (own >= 0)
        codes = np.where(valid, codes * (own.max() + 2) + own, -1)
        codes[valid] = np.unique(codes[valid], return_inverse=True)[1]
    if codes.max(initial=0) >= MAX_GROUPS:
        raise ValueError(f"{keys}: more than {MAX_GROUPS} groups; group by fewer values")
    return codes[: len(rows)], codes[len(rows) :]


class Timeline:
    """Events sorted by (group, instant), with running totals: windows are slices of it."""

    def __init__(self, codes: np.ndarray, times: np.ndarray, values: np.ndarray, origin: int):
        keep = (codes >= 0) & (times != NAT) & ~np.isnan(values)
        self.origin = origin
        packed = self._pack(codes[keep], times[keep])
        order = np.argsort(packed, kind="stable")
        self.keys = packed[order]
        self.codes, self.times = codes[keep][order], times[keep][order]
        self.values = values[keep][order]
        self._levels: dict[str, list[np.ndarray]] = {}

    def _pack(self, codes: np.ndarray, times: np.ndarray) -> np.ndarray:
        offset = np.clip(times - self.origin, 0, (1 << SHIFT) - 1)
        return (codes << SHIFT) | offset

    def position(self, codes: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Per query, how many events sort before (group, instant): the first not before it."""
        valid = (codes >= 0) & (times != NAT)
        probe = self._pack(np.where(valid, codes, 0), np.where(valid, times, self.origin))
        return np.searchsorted(self.keys, probe, side="left")

    def totals(self, weights: np.ndarray) -> np.ndarray:
        """Running totals with a leading zero: ``totals[hi] - totals[lo]`` sums a slice."""
        return np.concatenate([[0.0], np.cumsum(weights)])

    def last_before(self, codes: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Value and instant of each query's latest event at a position before ``end``.

        NaN and ``NAT`` where its group has none.
        """
        if not len(self.keys):
            return np.full(len(codes), np.nan), np.full(len(codes), NAT)
        at = np.maximum(end - 1, 0)
        found = (end > 0) & (self.codes[at] == codes)
        return np.where(found, self.values[at], np.nan), np.where(found, self.times[at], NAT)

    def extreme(self, lo: np.ndarray, hi: np.ndarray, how: str) -> np.ndarray:
        """Min or max of the values in each slice [lo, hi) (NaN for an empty slice).

        A sparse table: level k holds the extreme of every run of 2**k events, so any
        slice is covered by two overlapping runs.
        """
        pick = np.fmin if how == "min" else np.fmax
        if how not in self._levels:
            levels = [self.values]
            while (1 << len(levels)) <= len(self.values):
                previous, step = levels[-1], 1 << (len(levels) - 1)
                levels.append(pick(previous[:-step], previous[step:]))
            self._levels[how] = levels
        levels = self._levels[how]
        out = np.full(len(lo), np.nan)
        width = hi - lo
        some = width > 0
        level = np.floor(np.log2(np.maximum(width, 1))).astype("int64")
        for k in np.unique(level[some]):
            rows = some & (level == k)
            table = levels[k]
            out[rows] = pick(table[lo[rows]], table[hi[rows] - (1 << k)])
        return out


def _windows(window: str, cutoff: pd.Series, event: pd.Series, zone: str):
    """Start of the look-back window, and the bounds around the event for ``scheduled``."""
    if window == MIDNIGHT:
        start = local_midnight(cutoff, zone)
        around = (local_midnight(event, zone), local_midnight(event, zone, days=1))
    else:
        length = pd.Timedelta(window)
        start, around = cutoff - length, (event - length, event + length)
    return _ms(start), (_ms(around[0]), _ms(around[1]))


class _Group:
    """One grouping of one spec: its two timelines and every statistic taken from them.

    ``realised`` holds events at the instant their value became known, ``scheduled`` at
    their event time (a timetable, known in advance).
    """

    def __init__(self, spec, keys: list[str], rows: pd.DataFrame, events: pd.DataFrame, times):
        self.spec = spec
        self.codes, event_codes = group_codes(rows, events, keys)
        self.cutoff, self.event = times["cutoff"], times["event_rows"]
        self.realised = Timeline(event_codes, times["known"], times["value"], times["origin"])
        self.scheduled = Timeline(
            event_codes, times["event"], np.zeros(len(events)), times["origin"]
        )
        self.hi = self.realised.position(self.codes, self.cutoff)
        self.latest, self.latest_at = self.realised.last_before(self.codes, self.hi)
        self.missing = (self.codes < 0) | (self.cutoff == NAT)
        self.totals = {
            "n": self.realised.totals(np.ones(len(self.realised.values))),
            "s": self.realised.totals(self.realised.values),
            "a": self.realised.totals(
                (self.realised.values >= spec.above).astype("float64")
                if spec.above is not None
                else np.zeros(len(self.realised.values))
            ),
        }

    def _due(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Events scheduled in [start, end), per row."""
        after = self.scheduled.position(self.codes, end)
        return (after - self.scheduled.position(self.codes, start)).astype("float64")

    def windowed(self, stat: str, lo: np.ndarray, start: np.ndarray, around) -> np.ndarray:
        """One statistic over the realised events in positions [lo, hi) of the timeline."""
        hi, totals = self.hi, self.totals
        n = totals["n"][hi] - totals["n"][lo]
        with np.errstate(invalid="ignore", divide="ignore"):
            if stat == "count":
                return n
            if stat == "sum":
                return totals["s"][hi] - totals["s"][lo]
            if stat == "mean":
                return np.where(n > 0, (totals["s"][hi] - totals["s"][lo]) / n, np.nan)
            if stat == "share_above":
                return np.where(n > 0, (totals["a"][hi] - totals["a"][lo]) / n, np.nan)
        if stat == "backlog":
            return self._due(start, self.cutoff) - n
        if stat == "scheduled":
            return self._due(*around)
        if stat == "change":
            return self.latest - self.realised.last_before(self.codes, lo)[0]
        return self.realised.extreme(lo, hi, stat)

    def point(self, stat: str) -> np.ndarray:
        """A windowless statistic: the latest value, its age, the gap since the last event."""
        if stat == "latest":
            return np.where(self.latest_at == NAT, np.nan, self.latest)
        if stat == "age":
            return np.where(self.latest_at == NAT, np.nan, (self.cutoff - self.latest_at) / 6e4)
        before = self.scheduled.position(self.codes, self.event)
        previous = self.scheduled.last_before(self.codes, before)[1]
        return np.where(previous == NAT, np.nan, (self.event - previous) / 6e4)


def history_features(
    spec: "HistoryFeature", rows: pd.DataFrame, events: pd.DataFrame, timezone: str | None
) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """One spec's features for ``rows``, and when the latest information each used was known.

    ``rows`` carries the group keys, ``CUTOFF`` and ``EVENT`` (UTC); ``events`` carries the
    group keys, ``EVENT``, ``KNOWN`` and the spec's value. The second result maps each feature
    to the latest ``KNOWN`` instant among the events it summarises (NaT: none), the input of
    the leakage guard.
    """
    known_ms, event_ms = _ms(events[KNOWN]), _ms(events[EVENT])
    valid = np.concatenate([known_ms[known_ms != NAT], event_ms[event_ms != NAT]])
    value = events[spec.value] if spec.value else pd.Series(0.0, index=events.index)
    times = {
        "cutoff": _ms(rows[CUTOFF]),
        "event_rows": _ms(rows[EVENT]),
        "known": known_ms,
        "event": event_ms,
        "value": pd.to_numeric(value, errors="coerce").to_numpy(dtype="float64"),
        "origin": int(valid.min()) if len(valid) else 0,
    }
    names = iter(feature_names(spec))
    columns: dict[str, np.ndarray] = {}
    known: dict[str, pd.Series] = {}
    for keys in spec.groups:
        group = _Group(spec, keys, rows, events, times)
        provenance = _instants(group.latest_at, rows.index)
        for window in spec.windows:
            start, around = _windows(window, rows[CUTOFF], rows[EVENT], timezone or "UTC")
            lo = np.minimum(group.realised.position(group.codes, start), group.hi)
            for stat in (s for s in spec.stats if s not in WINDOWLESS):
                name = next(names)
                columns[name] = np.where(
                    group.missing, np.nan, group.windowed(stat, lo, start, around)
                )
                known[name] = provenance
        for stat in (s for s in spec.stats if s in WINDOWLESS):
            name = next(names)
            columns[name] = np.where(group.missing, np.nan, group.point(stat))
            known[name] = provenance
    return pd.DataFrame(columns, index=rows.index, dtype="float64"), known
