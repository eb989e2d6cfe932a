"""Errors before work: every column a config names, checked before anything runs.

A misspelt column used to fail twelve seconds into a run with a ``KeyError`` deep in pandas,
or, under ``schema_mapping.types``, to pass silently and leave a column empty. These checks
compare every name the config uses (keys, time columns, renames, units, anomaly columns,
lookups, the target, features, imputation, the leakage guard) with the columns the sources
declare, and, when data has landed, with the columns the deliveries really carry. Every
problem is reported at once, one line each, with the closest existing name.
"""

import difflib
from dataclasses import dataclass, field

from retrainer.domain.config import RetrainConfig, SourceConfig, TimeExpr
from retrainer.domain.history_features import feature_names

DAY_OF_WEEK = "day_of_week"


@dataclass
class ConfigCheck:
    """What is wrong with a config's column names (errors) and what looks odd (warnings)."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing blocks a run."""
        return not self.errors


def did_you_mean(name: str, candidates: set[str] | list[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or nothing when none is close."""
    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def source_columns(source: SourceConfig, landed: list[str] | None = None) -> set[str] | None:
    """The canonical columns a source provides after its schema mapping; None if unknowable.

    With ``types`` declared and unknown columns dropped, the declared types are the schema.
    Otherwise the columns of the landed deliveries (renamed) are, when any have landed.
    """
    mapping = source.schema_mapping
    if mapping.types and mapping.drop_unknown:
        return set(mapping.types)
    if landed is None:
        return None
    return {mapping.rename.get(c, c) for c in landed} | set(mapping.types)


def table_columns(config: RetrainConfig, base: set[str]) -> set[str]:
    """The training table's columns: the base source's, the looked-up ones, derived features."""
    looked_up = {f"{lk.prefix}{c}" for lk in config.lookups for c in lk.columns}
    derived = {DAY_OF_WEEK} if config.features.day_of_week_from else set()
    history = {name for spec in config.features.history for name in feature_names(spec)}
    return base | looked_up | derived | history


def _time_columns(expr: TimeExpr | None, source: SourceConfig) -> list[str]:
    """The columns a time expression reads (its own column or the source's time column)."""
    if expr is None:
        return []
    clock = [expr.clock, expr.clock_timezone] if expr.clock else []
    return [expr.column or source.time_column or "", *expr.add_minutes, *clock]


class _Report:
    """Collects one line per unknown name."""

    def __init__(self) -> None:
        self.check = ConfigCheck()

    def names(self, where: str, names: list[str], known: set[str] | None, what: str) -> None:
        if known is None:
            return
        for name in names:
            if name not in known:
                self.check.errors.append(
                    f"{where}: {name!r} is not {what}{did_you_mean(name, known)}"
                )


def _check_source(report: _Report, source: SourceConfig, landed: list[str] | None) -> None:
    where = f"sources[{source.name}]"
    mapping = source.schema_mapping
    columns = source_columns(source, landed)
    of_source = f"a column of source {source.name}"
    report.names(f"{where}.key", source.key, columns, of_source)
    if source.time_column:
        report.names(f"{where}.time_column", [source.time_column], columns, of_source)
        declared = mapping.types.get(source.time_column)
        if declared is not None and declared != "datetime":
            report.check.errors.append(
                f"{where}.time_column: {source.time_column!r} is typed {declared} under "
                "schema_mapping.types; a time column must be datetime"
            )
    mapped = f"declared under {where}.schema_mapping.types (it would be dropped)"
    report.names(
        f"{where}.schema_mapping.required_columns", mapping.required_columns, columns, of_source
    )
    report.names(f"{where}.schema_mapping.rename", list(mapping.rename.values()), columns, mapped)
    report.names(f"{where}.schema_mapping.units", list(mapping.units), columns, of_source)
    if source.anomalies:
        anomalies = [*source.anomalies.max_jump, *source.anomalies.group_by]
        report.names(f"{where}.anomalies", anomalies, columns, of_source)
    report.names(f"{where}.known_at", list(source.known_at), columns, of_source)
    if landed is not None:
        _check_landed(report, source, landed)


def _check_landed(report: _Report, source: SourceConfig, landed: list[str]) -> None:
    """Declared names the deliveries do not carry: a typo when an unmapped column is close."""
    where = f"sources[{source.name}].schema_mapping"
    mapping = source.schema_mapping
    delivered = set(landed)
    renamed = {mapping.rename.get(c, c) for c in landed}
    for raw in mapping.rename:
        if raw not in delivered:
            report.check.warnings.append(
                f"{where}.rename: the deliveries of {source.name} have no column {raw!r}"
                f"{did_you_mean(raw, delivered)}"
            )
    unclaimed = renamed - set(mapping.types)
    for name in mapping.types:
        if name in renamed:
            continue
        hint = did_you_mean(name, unclaimed)
        line = (
            f"{where}.types: {name!r} is not a column of the landed deliveries of "
            f"{source.name}{hint}; it would always be empty"
        )
        # A close unmapped column is a typo (the real column is being dropped); without one
        # the column may simply not be delivered yet.
        (report.check.errors if hint else report.check.warnings).append(line)


def check_columns(config: RetrainConfig, landed: dict[str, list[str]] | None = None) -> ConfigCheck:
    """Check every column the config names; ``landed``: each source's delivered columns.

    ``landed`` maps a source name to the column names of its latest delivery as received
    (before renaming); sources with nothing landed are left out.
    """
    landed = landed or {}
    report = _Report()
    columns = {}
    for source in config.sources:
        _check_source(report, source, landed.get(source.name))
        columns[source.name] = source_columns(source, landed.get(source.name))
    base = columns[config.base]
    base_name = f"a column of the base source {config.base}"
    for i, lookup in enumerate(config.lookups):
        where = f"lookups[{i}] ({lookup.source})"
        report.names(f"{where}.by", lookup.by, base, base_name)
        report.names(
            f"{where}.by", lookup.by, columns[lookup.source], f"a column of {lookup.source}"
        )
        report.names(
            f"{where}.columns",
            lookup.columns,
            columns[lookup.source],
            f"a column of {lookup.source}",
        )
    for source in config.sources:  # when records become known: may read a joined column
        known = columns[source.name]
        if known is not None and source.name == config.base:
            known = known | {f"{lk.prefix}{c}" for lk in config.lookups for c in lk.columns}
        exprs = [("event_time", source.event_time), *source.known_at.items()]
        for name, expr in exprs:
            where = f"sources[{source.name}].{'event_time' if name == 'event_time' else 'known_at'}"
            used = _time_columns(expr, source)
            report.names(where, used, known, f"a column of source {source.name}")
    for spec in config.features.history:
        where = f"features.history[{spec.name}]"
        keys = sorted({k for group in spec.groups for k in group})
        value = [spec.value] if spec.value else []
        events = f"a column of source {spec.source}"
        report.names(where, value + keys, columns.get(spec.source), events)
        report.names(f"{where}.groups", keys, base, base_name)
    report.names("target.column", [config.target.column], base, base_name)
    features = config.features
    report.names(
        "features.known_after_prediction", features.known_after_prediction, base, base_name
    )
    if features.day_of_week_from:
        report.names("features.day_of_week_from", [features.day_of_week_from], base, base_name)
    if base is not None:
        table = table_columns(config, base)
        in_table = "a column of the training table"
        report.names("features.numeric", features.numeric, table, in_table)
        report.names("features.categorical", features.categorical, table, in_table)
        report.names("evaluation.slices", config.evaluation.slices, table, in_table)
        if config.split.group_column:
            report.names("split.group_column", [config.split.group_column], table, in_table)
    history = {name for spec in features.history for name in feature_names(spec)}
    chosen = {*features.numeric, *features.categorical, *history}
    report.names("features.impute", list(features.impute), chosen, "one of the features")
    return report.check
