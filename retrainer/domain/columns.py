"""Config checks against the declared schemas: a misspelt column fails at load, not mid-run.

A source whose schema mapping declares ``types`` (and drops unknown columns, the default)
has exactly those columns in the lake, so every column a config names can be checked
before any data is read. Sources without declared types are not checked here.
"""

from difflib import get_close_matches
from typing import TYPE_CHECKING

from retrainer.domain.history import feature_names

if TYPE_CHECKING:
    from retrainer.domain.config import RetrainConfig, SourceConfig, TimeExpr

DERIVED = ("day_of_week",)


def source_columns(source: "SourceConfig") -> set[str] | None:
    """The columns a source has after schema mapping, or None when they are not declared."""
    mapping = source.schema_mapping
    if not mapping.types or not mapping.drop_unknown:
        return None
    return set(mapping.types)


def _unknown(where: str, names: list[str], known: set[str] | None, owner: str) -> list[str]:
    if known is None:
        return []
    problems = []
    for name in names:
        if name in known:
            continue
        close = get_close_matches(name, sorted(known), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(f"{where}: unknown column {name!r}{hint}; {owner} has {sorted(known)}")
    return problems


def _time_columns(expr: "TimeExpr | None", source: "SourceConfig") -> list[str]:
    if expr is None:
        return []
    clock = [expr.clock, expr.clock_timezone] if expr.clock else []
    return [expr.column or source.time_column or "", *expr.add_minutes, *clock]


def table_columns(config: "RetrainConfig") -> set[str] | None:
    """The training table's columns before the label: base, looked-up and derived ones."""
    base = source_columns(config.source(config.base))
    if base is None:
        return None
    columns = set(base) | set(DERIVED)
    for lookup in config.lookups:
        columns |= {f"{lookup.prefix}{c}" for c in lookup.columns}
    for spec in config.features.history:
        columns |= set(feature_names(spec))
    return columns


def check_columns(config: "RetrainConfig") -> None:
    """Raise ``ValueError`` naming every column the config uses that its sources lack."""
    base = config.source(config.base)
    base_columns = source_columns(base)
    owner = f"source {base.name!r}"
    problems = _unknown("target.column", [config.target.column], base_columns, owner)
    looked_up = {f"{lk.prefix}{c}" for lk in config.lookups for c in lk.columns}
    for source in config.sources:
        known = source_columns(source)
        if known is not None and source.name == config.base:
            known |= looked_up  # the base's times may use a joined column (a time zone)
        exprs = [source.event_time, *source.known_at.values()]
        used = [source.time_column] if source.time_column else []
        used += [c for e in exprs for c in _time_columns(e, source)]
        used += list(source.known_at) + source.key
        problems += _unknown(f"source {source.name}", used, known, "its schema")
    for lookup in config.lookups:
        right = source_columns(config.source(lookup.source))
        where = f"lookup {lookup.source}"
        problems += _unknown(where, lookup.by + lookup.columns, right, f"source {lookup.source!r}")
        problems += _unknown(where, lookup.by, base_columns, owner)
    for spec in config.features.history:
        events = source_columns(config.source(spec.source))
        keys = sorted({k for group in spec.groups for k in group})
        where = f"history {spec.name}"
        value = [spec.value] if spec.value else []
        problems += _unknown(where, value + keys, events, f"source {spec.source!r}")
        problems += _unknown(where, keys, base_columns, owner)
    table = table_columns(config)
    features = config.features
    problems += _unknown("features.numeric", features.numeric, table, "the training table")
    problems += _unknown("features.categorical", features.categorical, table, "the table")
    problems += _unknown("evaluation.slices", config.evaluation.slices, table, "the table")
    if config.split.group_column:
        problems += _unknown("split.group_column", [config.split.group_column], table, "the table")
    history = {name for spec in features.history for name in feature_names(spec)}
    stray = sorted(set(features.impute) - set(features.numeric) - history)
    if stray:
        problems.append(f"features.impute: {stray} are not numeric features")
    if problems:
        raise ValueError("; ".join(problems))
