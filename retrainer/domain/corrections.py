"""Rows whose key is already in the lake: exact duplicates, or corrections with other values.

Pure functions. A correction is a row that says something different about a record the lake
holds; the source's policy decides what happens to it (``keep_first``, ``take_newest``,
``quarantine``), and it is counted apart from exact duplicates either way.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

FILE_COLUMN = "_file"


@dataclass
class Matches:
    """How each new row relates to the lake, aligned on the new rows' index."""

    duplicate: pd.Series  # the same key and the same values: nothing new
    correction: pd.Series  # the same key, other values
    changed: pd.Series  # for corrections: which columns differ ("a, b")
    files: pd.Series  # for corrections: the lake file holding the row it corrects

    @property
    def fresh(self) -> pd.Series:
        """Rows whose key the lake does not have yet."""
        return ~(self.duplicate | self.correction)


def _comparable(values: pd.Series) -> np.ndarray:
    # None for every kind of missing value, so missing == missing and NA never poisons ==.
    return values.astype(object).where(values.notna(), None).to_numpy()


def match_existing(
    new: pd.DataFrame, existing: pd.DataFrame, key: list[str], columns: list[str]
) -> Matches:
    """Compare ``new`` rows with the lake's rows of the same key, on ``columns``.

    ``existing`` holds the lake's rows (key, ``columns`` and ``_file``); a key the lake holds
    twice is compared with its last row.
    """
    no = pd.Series(False, index=new.index)
    empty = pd.Series("", index=new.index, dtype="string")
    if new.empty or existing.empty:
        return Matches(no, no.copy(), empty, empty.copy())
    lake = existing.drop_duplicates(subset=key, keep="last")
    index = pd.MultiIndex.from_frame(lake[key])
    position = index.get_indexer(pd.MultiIndex.from_frame(new[key]))
    seen = position >= 0
    old = lake.iloc[position[seen]]
    differs = {
        column: _comparable(new.loc[seen, column]) != _comparable(old[column])
        for column in columns
        if column in new.columns and column in lake.columns
    }
    changed_any = np.zeros(int(seen.sum()), dtype=bool)
    for flags in differs.values():
        changed_any |= flags
    names = [
        ", ".join(c for c, flags in differs.items() if flags[i]) for i in range(len(changed_any))
    ]
    correction, duplicate = no.copy(), no.copy()
    correction[seen] = changed_any
    duplicate[seen] = ~changed_any
    changed, files = empty.copy(), empty.copy()
    changed[seen] = names
    if FILE_COLUMN in lake.columns:
        files[seen] = old[FILE_COLUMN].to_numpy()
    return Matches(duplicate, correction, changed, files)


def without_keys(rows: pd.DataFrame, removed: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """``rows`` minus those whose key is among ``removed``'s keys."""
    gone = pd.MultiIndex.from_frame(rows[key]).isin(pd.MultiIndex.from_frame(removed[key]))
    return rows[~gone]
