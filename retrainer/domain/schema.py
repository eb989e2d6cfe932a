"""Schema mapping and record-level cleaning of one delivery, before expectations run.

Pure functions on DataFrames. Nothing is silently dropped: a row that cannot be typed is
quarantined with the column and value at fault; duplicates are counted.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from retrainer.domain.config import AnomalyConfig, ColumnType, SourceConfig

ROW_ID = "_row"
REASON = "_reason"
CHECK = "_check"


class SchemaError(ValueError):
    """A delivery does not fit its source's schema at all (e.g. a required column is missing)."""


@dataclass
class Prepared:
    """A delivery after schema mapping: typed rows, rows set aside, and what happened."""

    clean: pd.DataFrame
    quarantine: pd.DataFrame
    dropped_columns: list[str] = field(default_factory=list)
    exact_duplicates: int = 0


def quarantine_rows(rows: pd.DataFrame, reason: pd.Series | str, check: str) -> pd.DataFrame:
    """Rows set aside as text (the values as received) with the reason and the check."""
    out = rows.astype("object").where(rows.notna(), None).astype("string")
    out[ROW_ID] = rows[ROW_ID].astype("int64") if ROW_ID in rows else np.arange(len(rows))
    out[REASON] = reason
    out[CHECK] = check
    return out


def _coerce(values: pd.Series, kind: ColumnType) -> pd.Series:
    if kind == "datetime":
        return pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
    if kind == "str":
        return values.astype("string")
    if kind == "bool":
        lowered = values.astype("string").str.lower()
        return lowered.map({"true": True, "false": False, "1": True, "0": False}).astype("boolean")
    numeric = pd.to_numeric(values, errors="coerce").astype("float64")
    if kind == "int":
        numeric = numeric.where(numeric == np.floor(numeric))
        return numeric.astype("Int64")
    return numeric


def apply_schema(raw: pd.DataFrame, source: SourceConfig) -> Prepared:
    """Rename, check required columns, type, convert units and drop exact duplicates."""
    mapping = source.schema_mapping
    frame = raw.rename(columns=mapping.rename)
    frame.columns = [str(c) for c in frame.columns]
    missing = [c for c in mapping.required_columns if c not in frame.columns]
    if missing:
        renamed = {src: dst for src, dst in mapping.rename.items() if dst in missing}
        hint = f" (the mapping expects them as {renamed})" if renamed else ""
        raise SchemaError(
            f"missing required columns {missing}{hint}; present: {sorted(frame.columns)}. "
            f"Fix the export or add a rename under sources[{source.name}].schema_mapping."
        )
    dropped = [c for c in frame.columns if mapping.types and c not in mapping.types]
    if mapping.drop_unknown:
        frame = frame.drop(columns=dropped)
    else:
        dropped = []
    frame = frame.reset_index(drop=True)
    frame.insert(0, ROW_ID, np.arange(len(frame), dtype="int64"))

    bad_reason = pd.Series(pd.NA, index=frame.index, dtype="string")
    typed = frame.copy()
    for column, kind in mapping.types.items():
        if column not in frame.columns:
            typed[column] = _coerce(pd.Series(pd.NA, index=frame.index, dtype="object"), kind)
            continue
        original = frame[column]
        converted = _coerce(original, kind)
        failed = converted.isna() & original.notna()
        if kind == "float":
            infinite = np.isinf(converted.to_numpy(dtype="float64", na_value=np.nan))
            failed |= infinite
            converted = converted.mask(infinite)
        reason = f"{column}: value is not a valid {kind}"
        bad_reason = bad_reason.mask(failed & bad_reason.isna(), reason)
        typed[column] = converted
    for column, unit in mapping.units.items():
        if column in typed.columns:
            typed[column] = typed[column] * unit.multiply + unit.add

    bad = bad_reason.notna()
    quarantine = quarantine_rows(frame[bad], bad_reason[bad], "schema types")
    typed = typed[~bad]
    data_columns = [c for c in typed.columns if c != ROW_ID]
    exact = typed.duplicated(subset=data_columns)
    return Prepared(
        clean=typed[~exact].reset_index(drop=True),
        quarantine=quarantine.reset_index(drop=True),
        dropped_columns=dropped,
        exact_duplicates=int(exact.sum()),
    )


def split_key_conflicts(frame: pd.DataFrame, key: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows whose key repeats within the batch with other values go to quarantine (all of them).

    Which version is right cannot be decided here, so neither is accepted.
    """
    conflict = frame.duplicated(subset=key, keep=False)
    reason = f"key {key} appears more than once in the delivery with different values"
    return frame[~conflict], quarantine_rows(frame[conflict], reason, "unique key")


def split_future(frame: pd.DataFrame, time_column: str | None, now: pd.Timestamp):
    """Rows stamped later than ``now`` go to quarantine: a clock or export bug, not data."""
    if not time_column or time_column not in frame.columns:
        return frame, quarantine_rows(frame.iloc[0:0], "", "")
    future = frame[time_column] > now
    reason = f"{time_column} is in the future (after {now.isoformat()})"
    return frame[~future], quarantine_rows(frame[future], reason, "event time not in future")


def split_anomalies(frame: pd.DataFrame, config: AnomalyConfig | None, time_column: str | None):
    """Spikes in a sensor feed go to quarantine with the numbers; nothing is clipped.

    A spike departs from the median of the readings around it (in time, per group) by more
    than the column's largest plausible jump. A weather front moves the neighbours too, so
    it is not a spike even when it is far from the week's typical values.
    """
    if config is None or frame.empty:
        return frame, quarantine_rows(frame.iloc[0:0], "", "")
    reasons = pd.Series(pd.NA, index=frame.index, dtype="string")
    ordered = frame.sort_values(time_column, kind="stable") if time_column else frame
    groups = ordered.groupby(config.group_by, sort=False) if config.group_by else [(None, ordered)]
    for _, rows in groups:
        for column, limit in config.max_jump.items():
            values = rows[column].astype("float64")
            around = values.rolling(config.window, center=True, min_periods=2).median()
            for index in values.index[((values - around).abs() > limit).fillna(False)]:
                if pd.isna(reasons[index]):
                    reasons[index] = (
                        f"sensor spike: {column}={values[index]:.6g} while the readings around "
                        f"it have median {around[index]:.6g} (largest plausible jump {limit:g})"
                    )
    flagged = reasons.notna()
    return frame[~flagged], quarantine_rows(frame[flagged], reasons[flagged], "anomaly")
