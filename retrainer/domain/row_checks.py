"""Checks that span columns or a whole delivery, beyond what an expectation suite says.

- Row checks: a rule over several fields of one row that must hold (``hour == sched_dep_time
  // 100``), declared in a suite file's ``row_checks`` list with a ``notes`` line, like an
  expectation. A row fails only when the rule is false on values that are all present:
  missing values are the null expectations' business.
- Empty model columns: a delivery whose label or a feature column holds no value at all
  still loads, but the model would silently lose that signal; it is a warning on the run.
"""

import re
from dataclasses import dataclass

import pandas as pd

from retrainer.domain.config import RetrainConfig


class RowCheckError(ValueError):
    """A row check's rule cannot be evaluated on the delivery (unknown column, bad syntax)."""


@dataclass(frozen=True)
class RowCheck:
    """One rule from a suite file's ``row_checks``."""

    rule: str
    notes: str
    severity: str = "warning"  # warning | critical
    quarantine_failing_rows: bool = False


def referenced_columns(rule: str, columns: list[str]) -> list[str]:
    """The columns a rule mentions, as whole words."""
    return [c for c in columns if re.search(rf"(?<![\w.]){re.escape(c)}(?![\w])", rule)]


def failing_rows(frame: pd.DataFrame, check: RowCheck) -> pd.Series:
    """True for rows that break the rule while every column it reads has a value."""
    used = referenced_columns(check.rule, list(frame.columns))
    if not used:
        raise RowCheckError(f"row check {check.rule!r} names no column of the delivery")
    try:
        holds = frame.eval(check.rule)
    except Exception as exc:
        raise RowCheckError(f"row check {check.rule!r} cannot be evaluated: {exc}") from exc
    present = frame[used].notna().all(axis=1)
    holds = pd.Series(holds, index=frame.index).astype("boolean").fillna(True).astype(bool)
    return ~holds & present


def model_columns(config: RetrainConfig, source: str) -> list[str]:
    """The columns of ``source`` the model reads: features, the label's column, join keys."""
    mine = set(config.source(source).schema_mapping.types)
    used: set[str] = set()
    if source == config.base:
        used |= {config.target.column, *config.features.numeric, *config.features.categorical}
        used |= {key for lookup in config.lookups for key in lookup.by}
    for lookup in config.lookups:
        if lookup.source == source:
            used |= {*lookup.columns, *lookup.by}
    return sorted(used & mine)


def empty_columns(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    """Which of ``columns`` have no value in any row of ``frame`` (absent ones included)."""
    if frame.empty:
        return []
    return [c for c in columns if c not in frame.columns or frame[c].isna().all()]
