"""Monitoring stage: one period's predictions against the model's reference, then alarms."""

import pandas as pd
from prefect import get_run_logger, runtime, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from retrainer.boundaries import in_service, tracking
from retrainer.boundaries.predictions import PredictionStore
from retrainer.boundaries.prefect_api import ALARM, emit_dataset_event
from retrainer.boundaries.settings import home
from retrainer.domain.config import RetrainConfig
from retrainer.domain.monitoring import (
    MonitoringReport,
    Reference,
    Scope,
    choose_scope,
    monitor_period,
    plot_drift,
    reference_for,
    report_document,
    report_markdown,
    scored_records,
)
from retrainer.domain.scoring import ModelInService


@task(name="find-predictions", cache_policy=NO_CACHE)
def find_predictions(
    config: RetrainConfig, period: str | None
) -> tuple[Scope, pd.DataFrame] | None:
    """The period to monitor, the version that scored it, and the predictions zone's rows.

    None when nothing was scored yet and no period was asked for: a scheduled run before
    the first predictions has nothing to do.
    """
    predictions = PredictionStore(home(), config.name).read()
    if predictions.empty and period is None:
        get_run_logger().warning("nothing to monitor: no predictions yet (`retrainer predict`)")
        return None
    scope = choose_scope(predictions, period)
    get_run_logger().info(
        "monitoring %s: %d predictions of v%s", scope.period, scope.rows, scope.version
    )
    return scope, predictions


@task(name="reference-rows", cache_policy=NO_CACHE)
def reference_rows(config: RetrainConfig, model: ModelInService, table: pd.DataFrame) -> Reference:
    """The model's training rows, and its own predictions on its test months."""
    return reference_for(config, model, table, in_service.load(model))


@task(name="check-period", cache_policy=NO_CACHE)
def check_period(
    config: RetrainConfig,
    scope: Scope,
    model: ModelInService,
    reference: Reference,
    predictions: pd.DataFrame,
    table: pd.DataFrame,
) -> MonitoringReport:
    """Drift, realised and estimated performance, slices, alarms; published as artifacts."""
    current = scored_records(config, scope, predictions, table)
    report = monitor_period(config, scope.period, model, reference, current)
    create_markdown_artifact(
        key=f"monitor-{config.name}",
        markdown=report_markdown(report),
        description=f"Monitoring of {scope.period}, v{scope.version}",
    )
    create_table_artifact(
        key=f"drift-{config.name}",
        table=[d.as_dict() for d in report.features],
        description=f"Feature drift in {scope.period} against v{scope.version}'s training rows",
    )
    for alarm in report.alarms:
        get_run_logger().warning("alarm %s: %s", alarm.kind, alarm.detail)
    get_run_logger().info(report.diagnosis)
    return report


@task(name="log-monitoring", cache_policy=NO_CACHE)
def log_monitoring(config: RetrainConfig, report: MonitoringReport) -> str:
    """The report as an MLflow run in ``<experiment>-monitoring``; its run id."""
    h = home()
    experiment = f"{config.mlflow.experiment}-monitoring"
    experiment_id = tracking.use_experiment(h.mlflow_uri, experiment, h.mlartifacts)
    run_id = tracking.log_report_run(
        experiment_id,
        f"monitor-{config.name}-{report.period}-v{report.version}",
        tags={**report.tags(), "prefect_flow_run_id": str(runtime.flow_run.id or "")},
        metrics=report.metrics(),
        documents={"monitoring/report.json": report_document(report)},
        figures={"feature_psi.png": plot_drift(report, config.monitoring.psi_threshold)},
    )
    get_run_logger().info("monitoring report in MLflow run %s (%s)", run_id, experiment)
    return run_id


@task(name="raise-alarm", cache_policy=NO_CACHE)
def raise_alarm(config: RetrainConfig, report: MonitoringReport, run_id: str) -> str | None:
    """Emit ``retrainer.monitor.alarm`` when a threshold was crossed; the event id."""
    if not report.alarms:
        return None
    event_id = emit_dataset_event(ALARM, config.name, report.alarm_payload(run_id))
    get_run_logger().warning("sent %s %s: %d alarm(s)", ALARM, event_id, len(report.alarms))
    return event_id
