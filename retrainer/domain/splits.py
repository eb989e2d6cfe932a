"""Test rows apart, and cross-validation folds inside the training rows, by split kind.

Every choice a model makes (hyperparameters, family, decision threshold) is taken on the
folds; the test rows are scored once, at the end.
"""

import numpy as np
import pandas as pd

from retrainer.domain.config import RetrainConfig
from retrainer.domain.features import Split

# Leave-one-out fits one model per training row: beyond this it is the wrong tool.
MAX_LEAVE_ONE_OUT_ROWS = 1000


class SplitError(ValueError):
    """The data cannot fill the configured split: too few months, rows, groups or classes."""


def split_rows(table: pd.DataFrame, config: RetrainConfig) -> Split:
    """Split ``table`` as ``config.split.kind`` says, and check every part has enough rows."""
    split = (
        time_split(table, config) if config.split.kind == "time" else random_split(table, config)
    )
    if len(split.train) < config.split.min_train_rows:
        raise SplitError(
            f"only {len(split.train)} training rows (split.min_train_rows is "
            f"{config.split.min_train_rows}); land more data or lower the minimum"
        )
    if len(split.test) < config.split.min_test_rows:
        raise SplitError(
            f"only {len(split.test)} test rows (split.min_test_rows is "
            f"{config.split.min_test_rows}); land more data or enlarge the test part"
        )
    return split


def calendar_months(table: pd.DataFrame, config: RetrainConfig) -> pd.Series:
    """Each row's calendar month (``YYYY-MM``) in the split's time zone."""
    time_column = config.source(config.base).time_column or ""
    return table[time_column].dt.tz_convert(config.split.timezone).dt.strftime("%Y-%m")


def time_split(table: pd.DataFrame, config: RetrainConfig) -> Split:
    """The last ``test_months`` are test; folds validate on each of the months before.

    An expanding window: the fold for month m fits on every training month before m, so
    no fold ever learns from its own future.
    """
    month = calendar_months(table, config)
    months = sorted(month.unique())
    n_test, n_validation = config.split.test_months, config.split.validation_months
    need = n_test + n_validation + 1
    if len(months) < need:
        raise SplitError(
            f"the data covers {len(months)} month(s) {months}, the split needs at least {need} "
            f"(train + {n_validation} validation + {n_test} test); land more data or reduce "
            "split.test_months / split.validation_months"
        )
    test, train_months = months[-n_test:], months[:-n_test]
    validation = train_months[-n_validation:]
    in_train = month.isin(train_months).to_numpy()
    train_month = month[in_train].to_numpy()
    folds = [
        (np.flatnonzero(train_month < m), np.flatnonzero(train_month == m)) for m in validation
    ]
    return Split(
        train=table[in_train].reset_index(drop=True),
        test=table[month.isin(test).to_numpy()].reset_index(drop=True),
        periods={"train": train_months, "validation": validation, "test": test},
        folds=folds,
    )


def _holdout(table: pd.DataFrame, config: RetrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """Positions of training and test rows: random, by class, or by whole groups."""
    from sklearn.model_selection import GroupShuffleSplit, train_test_split

    split, seed = config.split, config.model.seed
    positions = np.arange(len(table))
    if split.kind == "grouped":
        groups = table[split.group_column or ""].astype("string").fillna("<missing>")
        if groups.nunique() < 3:
            raise SplitError(
                f"split.group_column {split.group_column!r} has {groups.nunique()} group(s); "
                "a grouped split needs at least 3"
            )
        splitter = GroupShuffleSplit(n_splits=1, test_size=split.test_fraction, random_state=seed)
        return next(splitter.split(positions, groups=groups))
    label = table[config.target.name]
    stratify = label if config.target.kind != "regression" else None
    if stratify is not None:
        rare = label.value_counts()
        if rare.min() < 2:
            raise SplitError(
                f"class {rare.idxmin()!r} has {rare.min()} row(s): a stratified split needs at "
                f"least 2 per class (classes: {rare.to_dict()})"
            )
    return train_test_split(
        positions, test_size=split.test_fraction, stratify=stratify, random_state=seed
    )


def _folds(train: pd.DataFrame, config: RetrainConfig) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cross-validation folds over the training rows."""
    from sklearn.model_selection import GroupKFold, KFold, LeaveOneOut, StratifiedKFold

    split, seed = config.split, config.model.seed
    label = train[config.target.name]
    if split.kind == "leave_one_out":
        if len(train) > MAX_LEAVE_ONE_OUT_ROWS:
            raise SplitError(
                f"leave-one-out would fit {len(train)} models (one per training row; the limit "
                f"is {MAX_LEAVE_ONE_OUT_ROWS}): use split.kind stratified with split.folds"
            )
        return list(LeaveOneOut().split(train))
    if split.kind == "grouped":
        groups = train[split.group_column or ""].astype("string").fillna("<missing>")
        if groups.nunique() < split.folds:
            raise SplitError(
                f"{groups.nunique()} training group(s) cannot fill {split.folds} folds; lower "
                "split.folds"
            )
        return list(GroupKFold(n_splits=split.folds).split(train, groups=groups))
    if config.target.kind == "regression":
        return list(KFold(split.folds, shuffle=True, random_state=seed).split(train))
    smallest = label.value_counts()
    if smallest.min() < split.folds:
        raise SplitError(
            f"class {smallest.idxmin()!r} has {smallest.min()} training row(s), fewer than "
            f"split.folds ({split.folds}); lower split.folds or gather more rows"
        )
    stratified = StratifiedKFold(split.folds, shuffle=True, random_state=seed)
    return list(stratified.split(train, label))


def random_split(table: pd.DataFrame, config: RetrainConfig) -> Split:
    """A random holdout (stratified by class, or by whole groups) and folds inside the rest."""
    train_rows, test_rows = _holdout(table, config)
    train = table.iloc[np.sort(train_rows)].reset_index(drop=True)
    test = table.iloc[np.sort(test_rows)].reset_index(drop=True)
    split = config.split
    share = f"{1 - split.test_fraction:.0%}" if split.kind != "grouped" else "groups"
    folds = "leave-one-out" if split.kind == "leave_one_out" else f"{split.folds}-fold"
    return Split(
        train=train,
        test=test,
        periods={
            "train": [f"{split.kind} {share} ({len(train)} rows)"],
            "validation": [f"{folds} cross-validation inside train"],
            "test": [f"{split.kind} holdout ({len(test)} rows)"],
        },
        folds=_folds(train, config),
    )
