"""The monitor flow: one period's predictions against the model's training data and test
predictions; drift, performance realised and estimated, an MLflow run, and an alarm event."""

from prefect import flow
from pydantic import BaseModel

from retrainer.domain.config import RetrainConfig
from retrainer.domain.monitoring import require_scorable
from tasks.ingest import read_validated
from tasks.monitor import (
    check_period,
    find_predictions,
    log_monitoring,
    raise_alarm,
    reference_rows,
)
from tasks.predict import build_scoring_table, load_model_in_service


class MonitorSummary(BaseModel):
    """What a monitoring run found, as the CLI prints it."""

    dataset: str
    period: str
    version: str
    rows: int
    labelled: int
    metric: str
    baseline: float
    estimated: float
    realised: float | None
    drifted: list[str]
    alarms: list[str]
    diagnosis: str
    mlflow_run_id: str
    alarm_event_id: str | None


@flow(name="monitor", flow_run_name="monitor-{config.name}")
def monitor(config: RetrainConfig, period: str | None = None) -> MonitorSummary | None:
    """Monitor one period (default: the latest with predictions); alarm beyond thresholds."""
    require_scorable(config)
    found = find_predictions(config, period)
    if found is None:
        return None
    scope, predictions = found
    model = load_model_in_service(config, scope.version)
    frames = read_validated(config)
    table = build_scoring_table(config, frames)
    reference = reference_rows(config, model, table)
    report = check_period(config, scope, model, reference, predictions, table)
    run_id = log_monitoring(config, report)
    event_id = raise_alarm(config, report, run_id)
    return MonitorSummary(
        dataset=config.name,
        period=report.period,
        version=report.version,
        rows=report.rows,
        labelled=report.labelled,
        metric=report.metric,
        baseline=report.baseline,
        estimated=report.estimated[report.metric],
        realised=None if report.realised is None else report.realised[report.metric],
        drifted=[d.feature for d in report.drifted],
        alarms=[f"{a.kind}: {a.detail}" for a in report.alarms],
        diagnosis=report.diagnosis,
        mlflow_run_id=run_id,
        alarm_event_id=event_id,
    )
