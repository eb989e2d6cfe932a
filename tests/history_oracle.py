"""The slow, obvious recomputation of history features that the tests compare against."""

import numpy as np
import pandas as pd

from retrainer.domain.config import HistoryFeature
from retrainer.domain.history_features import CUTOFF, EVENT, KNOWN, feature_names


def _latest(candidates: pd.DataFrame, before) -> pd.Series | None:
    done = candidates[candidates[KNOWN] < before]
    if done.empty:
        return None
    # Ties in time: the later event in the input wins, as in the vectorised version.
    return done[done[KNOWN] == done[KNOWN].max()].iloc[-1]


def brute_force(
    spec: HistoryFeature, row: pd.Series, table: pd.DataFrame, zone: str
) -> dict[str, float]:
    """Every feature of ``spec`` for one row, by filtering the events one row at a time.

    ``table`` holds the events: the group keys, ``EVENT``, ``KNOWN`` and ``spec.value``;
    ``row`` the same keys, ``EVENT`` and ``CUTOFF``.
    """
    value = spec.value or "_none"
    table = table if spec.value else table.assign(_none=0.0)
    out = {}
    names = iter(feature_names(spec))
    cutoff, own = row[CUTOFF], row[EVENT]
    for keys in spec.groups:
        missing = any(pd.isna(row[k]) for k in keys)
        mine = table.dropna(subset=keys) if keys else table
        for k in keys:
            mine = mine[mine[k] == row[k]]
        known = mine.dropna(subset=[KNOWN, value])
        for window in spec.windows:
            if window == "since_midnight":
                start = cutoff.tz_convert(zone).tz_localize(None).normalize().tz_localize(zone)
                day = own.tz_convert(zone).tz_localize(None).normalize()
                around = (day.tz_localize(zone), (day + pd.Timedelta(days=1)).tz_localize(zone))
            else:
                start = cutoff - pd.Timedelta(window)
                around = (own - pd.Timedelta(window), own + pd.Timedelta(window))
            inside = known[(known[KNOWN] >= start) & (known[KNOWN] < cutoff)][value]
            due = mine[(mine[EVENT] >= start) & (mine[EVENT] < cutoff)]
            near = mine[(mine[EVENT] >= around[0]) & (mine[EVENT] < around[1])]
            now, then = _latest(known, cutoff), _latest(known, start)
            values = {
                "count": len(inside),
                "sum": inside.sum(),
                "mean": inside.mean() if len(inside) else np.nan,
                "share_above": (inside >= spec.above).mean() if len(inside) else np.nan,
                "min": inside.min() if len(inside) else np.nan,
                "max": inside.max() if len(inside) else np.nan,
                "backlog": len(due) - len(inside),
                "scheduled": len(near),
                "change": (now[value] if now is not None else np.nan)
                - (then[value] if then is not None else np.nan),
            }
            for stat in spec.stats:
                if stat not in ("latest", "age", "gap"):
                    out[next(names)] = np.nan if missing else values[stat]
        latest = _latest(known, cutoff)
        earlier = mine[mine[EVENT] < own][EVENT]
        points = {
            "latest": np.nan if latest is None else latest[value],
            "age": np.nan if latest is None else (cutoff - latest[KNOWN]) / pd.Timedelta("1min"),
            "gap": (own - earlier.max()) / pd.Timedelta("1min") if len(earlier) else np.nan,
        }
        for stat in spec.stats:
            if stat in ("latest", "age", "gap"):
                out[next(names)] = np.nan if missing else points[stat]
    return out
