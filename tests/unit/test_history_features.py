"""History features against a brute-force recomputation, on random events with ties and gaps.

Every statistic of every window is recomputed row by row with plain filters (the slow,
obvious way) and compared with the vectorised result; ties in time, missing values,
missing keys, cancelled events and a DST change are all in the data.
"""

import numpy as np
import pandas as pd
import pytest

from retrainer.domain.config import HistoryFeature
from retrainer.domain.history_features import CUTOFF, EVENT, KNOWN, history_features
from tests.history_oracle import brute_force

ZONE = "America/New_York"
STATS = ["count", "mean", "sum", "share_above", "backlog", "change", "scheduled"]


def events(seed: int, n: int = 300) -> pd.DataFrame:
    """Events over three days around the March DST change, on a 5-minute grid (ties)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2013-03-09 05:00", tz="UTC")
    event = start + pd.to_timedelta(rng.integers(0, 3 * 24 * 12, n) * 5, unit="min")
    delay = rng.choice([-10, 0, 15, 30, 60, 240], n).astype("float64")
    delay[rng.random(n) < 0.1] = np.nan  # cancelled: never known
    value = np.where(rng.random(n) < 0.05, np.nan, rng.normal(20, 30, n).round())
    return pd.DataFrame(
        {
            "airport": rng.choice(np.array(["EWR", "JFK", "LGA", None], dtype=object), n),
            "carrier": rng.choice(["AA", "UA"], n),
            EVENT: event,
            KNOWN: event + pd.to_timedelta(delay, unit="min"),
            "delay": value,
        }
    ).astype({"airport": "string", "carrier": "string"})


def queries(table: pd.DataFrame, seed: int, n: int = 30) -> pd.DataFrame:
    """Random rows of the events, predicted two hours ahead."""
    rows = table.sample(n, random_state=seed).reset_index(drop=True)
    return rows.assign(**{CUTOFF: rows[EVENT] - pd.Timedelta(hours=2)})


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(
    ("stats", "windows"),
    [
        (STATS, ["1h", "3h", "since_midnight"]),
        (["min", "max", "count"], ["90min", "6h"]),
        (["latest", "age", "gap"], []),
    ],
)
def test_every_feature_matches_a_brute_force_recomputation(seed, stats, windows):
    table = events(seed)
    rows = queries(table, seed)
    spec = HistoryFeature(
        name="dep",
        source="events",
        value="delay",
        groups=[["airport"], ["airport", "carrier"], []],
        windows=windows,
        stats=stats,
        above=15,
    )

    features, known = history_features(spec, rows, table, ZONE)

    expected = pd.DataFrame([brute_force(spec, row, table, ZONE) for _, row in rows.iterrows()])
    pd.testing.assert_frame_equal(features, expected.astype("float64"), check_exact=False)
    for name, when in known.items():
        used = when.notna()
        assert (when[used] < rows.loc[used, CUTOFF]).all(), name


def test_nothing_known_at_or_after_the_cutoff_is_used():
    table = events(7)
    rows = queries(table, 7)
    # An event known exactly at a row's cutoff, with an absurd value: it must not count.
    probe = rows.iloc[[0]].assign(**{KNOWN: rows.loc[0, CUTOFF], "delay": 1e6})
    spec = HistoryFeature(
        name="d", source="e", value="delay", groups=[["airport"]], windows=["3h"], stats=["max"]
    )
    features, _ = history_features(spec, rows, pd.concat([table, probe]), ZONE)
    assert features["d_max_3h_airport"].max() < 1e6
