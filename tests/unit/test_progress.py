"""The terminal names a run's steps as the flow names its tasks."""

import logging

from retrainer.operations.progress import step_name


def _record(**extra) -> logging.LogRecord:
    record = logging.LogRecord("prefect.task_runs", logging.INFO, "x", 1, "msg", None, None)
    record.__dict__.update(extra)
    return record


def test_prefect_s_random_suffix_is_dropped_and_chosen_names_kept():
    assert step_name(_record(task_run_name="read-validated-be7", task_name="read-validated")) == (
        "read-validated"
    )
    assert step_name(_record(task_run_name="ingest-flights", task_name="ingest-source")) == (
        "ingest-flights"
    )
    assert step_name(_record(flow_run_name="retrain-flights")) is None
