"""Validation stage: the joined training table through its Great Expectations suite."""

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from retrainer.boundaries.caching import EXPIRATION, LAKE_CONTENT
from retrainer.boundaries.settings import expectations_dir, home
from retrainer.boundaries.validation import DataValidationError, ValidationReport, validate_table
from retrainer.domain.config import RetrainConfig
from retrainer.domain.features import TrainingTable
from retrainer.domain.reports import expectations_markdown


def publish_report(report: ValidationReport, key: str) -> None:
    """Every expectation's outcome and why it exists, and its Data Docs page, as an artifact."""
    rows = [
        {
            "expectation": o.expectation,
            "column": o.column,
            "gate": o.gate,
            "success": o.success,
            "unexpected": o.unexpected_count,
            "unexpected_percent": o.unexpected_percent,
            "sample_failing_rows": o.failing_rows[:5],
            "why": o.notes,
        }
        for o in report.outcomes
    ]
    docs = f"\n\n[This validation in Data Docs]({report.docs_url})" if report.docs_url else ""
    create_markdown_artifact(
        key=key,
        markdown=expectations_markdown(rows) + docs,
        description=f"Great Expectations suite `{report.suite}`: every expectation, and why",
    )


@task(
    name="validate-training-table",
    cache_policy=LAKE_CONTENT,
    cache_expiration=EXPIRATION,
    persist_result=True,
)
def validate_training_table(config: RetrainConfig, table: TrainingTable) -> dict:
    """Gate: a failing critical expectation stops the run before any training."""
    suite = expectations_dir() / config.training_suite
    report = validate_table(table.frame, suite, f"training-{config.name}", home().gx)
    publish_report(report, f"validation-training-{config.name}")
    for warning in report.warnings:
        get_run_logger().warning("expectation warned: %s", warning.describe())
    if not report.success:
        raise DataValidationError(f"training table of {config.name}", report)
    return {
        "suite": report.suite,
        "success": report.success,
        "evaluated": len(report.outcomes),
        "warnings": [w.describe() for w in report.warnings],
        "data_docs": report.docs_url,
    }
