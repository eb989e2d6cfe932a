"""Great Expectations 1.x gates: run a suite file from ``expectations/`` on a DataFrame.

Suites are data files. Each expectation carries GX's own ``severity`` (``critical`` blocks
the run, ``warning`` and ``info`` only warn: GX treats severity as metadata, the gate is
ours) and a ``notes`` line saying why it exists. ``meta.quarantine_failing_rows: true``
turns a row-level failure into quarantined rows instead of a failed batch.

A suite file may also list ``row_checks``: rules across the fields of a row (``hour ==
sched_dep_time // 100``) with the same ``notes``, ``severity`` and ``meta``; they are judged
beside the expectations and reported alike. String bounds of a ``*_to_be_between``
expectation are ISO timestamps (a JSON file cannot hold a datetime; GX wants one).

Two processes share one GX file context: suites, definitions and checkpoints are rewritten
on every validation, so each validation holds the context's file lock (without it GX fails
the other process with ``ResourceFreshnessAggregateError``).
"""

import json
import logging
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from retrainer.boundaries.locks import file_lock
from retrainer.boundaries.settings import DATA_DOCS_URL_FILE, data_docs_site, home
from retrainer.domain.row_checks import RowCheck, failing_rows
from retrainer.domain.schema import ROW_ID

SAMPLE_ROWS = 10
LOCK = "gx.lock"
SITE = "local_site"  # the site name data_docs_site() points into
INDEX = "index.html"


@dataclass
class Outcome:
    """The result of one expectation."""

    expectation: str
    column: str | None
    notes: str
    gate: str  # block | warn | quarantine
    success: bool
    unexpected_count: int = 0
    unexpected_percent: float = 0.0
    failing_rows: list[int] = field(default_factory=list)
    observed: str = ""

    def describe(self) -> str:
        """One line: which expectation, on which column, how many rows, which rows."""
        what = "rule" if self.expectation == "row_check" else "column"
        where = f" on {what} {self.column!r}" if self.column else ""
        rows = f"; failing rows e.g. {self.failing_rows[:SAMPLE_ROWS]}" if self.failing_rows else ""
        seen = f"; observed {self.observed}" if self.observed else ""
        count = f": {self.unexpected_count} rows" if self.unexpected_count else ""
        return f"{self.expectation}{where}{count}{seen}{rows} (why it exists: {self.notes})"


@dataclass
class ValidationReport:
    """All outcomes of one suite on one batch, plus where Data Docs show them."""

    suite: str
    outcomes: list[Outcome]
    docs_url: str | None
    quarantine: dict[int, str] = field(default_factory=dict)
    result_ids: list = field(default_factory=list)

    @property
    def blocking(self) -> list[Outcome]:
        """Failed expectations that stop the run."""
        return [o for o in self.outcomes if not o.success and o.gate == "block"]

    @property
    def warnings(self) -> list[Outcome]:
        """Failed expectations that only warn."""
        return [o for o in self.outcomes if not o.success and o.gate == "warn"]

    @property
    def success(self) -> bool:
        """True when nothing blocks."""
        return not self.blocking


class DataValidationError(RuntimeError):
    """A blocking expectation failed: the run stops before anything is trained or promoted."""

    def __init__(self, subject: str, report: ValidationReport) -> None:
        self.report = report
        lines = "\n".join(f"  - {o.describe()}" for o in report.blocking)
        docs = f"\nData Docs: {report.docs_url}" if report.docs_url else ""
        super().__init__(
            f"{subject} failed {len(report.blocking)} blocking expectation(s) of suite "
            f"{report.suite!r}:\n{lines}\nFix the data at its source and deliver it again, or, "
            f"if the expectation is wrong, change it in expectations/{report.suite}.json.{docs}"
        )


def load_suite(path: Path) -> dict:
    """Read a suite file and check every expectation and row check says why it exists."""
    suite = json.loads(path.read_text())
    for expectation in suite["expectations"]:
        if not expectation.get("notes"):
            raise ValueError(f"{path}: {expectation['type']} has no `notes` saying why it exists")
        if expectation["type"].endswith("_to_be_between"):
            kwargs = expectation["kwargs"]
            for bound in ("min_value", "max_value"):
                if isinstance(kwargs.get(bound), str):
                    kwargs[bound] = pd.Timestamp(kwargs[bound]).tz_convert("UTC")
    for check in suite.get("row_checks", []):
        if not check.get("notes"):
            raise ValueError(f"{path}: row check {check['rule']!r} has no `notes`")
    return suite


def row_checks(suite: dict) -> list[RowCheck]:
    """The suite's row checks."""
    return [
        RowCheck(
            rule=c["rule"],
            notes=c["notes"],
            severity=c.get("severity", "warning"),
            quarantine_failing_rows=bool((c.get("meta") or {}).get("quarantine_failing_rows")),
        )
        for c in suite.get("row_checks", [])
    ]


def _row_check_outcome(frame: pd.DataFrame, check: RowCheck) -> Outcome:
    failing = failing_rows(frame, check)
    if check.quarantine_failing_rows:
        gate = "quarantine"
    else:
        gate = "block" if check.severity == "critical" else "warn"
    rows = frame.loc[failing, ROW_ID].astype("int64").tolist() if ROW_ID in frame else []
    count = int(failing.sum())
    return Outcome(
        expectation="row_check",
        column=check.rule,
        notes=check.notes,
        gate=gate,
        success=count == 0,
        unexpected_count=count,
        unexpected_percent=round(100.0 * count / max(len(frame), 1), 4),
        failing_rows=rows,
    )


@cache
def _context(root: str):
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    # context_root_dir: the context lives in ``root`` itself (project_root_dir would nest it
    # in a second ``gx/``).
    context = gx.get_context(mode="file", context_root_dir=root)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.variables.save()
    return context


def _gate(config) -> str:
    if (config.meta or {}).get("quarantine_failing_rows"):
        return "quarantine"
    return "block" if str(config.severity).lower().endswith("critical") else "warn"


def _outcome(result) -> Outcome:
    config = result.expectation_config
    res = result.result or {}
    index = res.get("unexpected_index_list") or []
    rows = [int(i[ROW_ID]) if isinstance(i, dict) else int(i) for i in index]
    observed = res.get("observed_value")
    return Outcome(
        expectation=config.type,
        column=config.kwargs.get("column"),
        notes=str(config.notes or ""),
        gate=_gate(config),
        success=bool(result.success),
        unexpected_count=int(res.get("unexpected_count") or 0),
        unexpected_percent=round(float(res.get("unexpected_percent") or 0.0), 4),
        failing_rows=rows,
        observed="" if observed is None else str(observed)[:200],
    )


def validate(frame: pd.DataFrame, suite_path: Path, asset: str, gx_root: Path) -> ValidationReport:
    """Run the suite at ``suite_path`` on ``frame`` through a GX checkpoint; build Data Docs.

    ``frame`` must carry the row id column ``_row`` so failing rows can be named.
    """
    spec = load_suite(suite_path)
    with file_lock(gx_root / LOCK):
        result = _run_checkpoint(frame, spec, asset, gx_root)
    outcomes = [_outcome(r) for run in result.run_results.values() for r in run.results]
    outcomes += [_row_check_outcome(frame, check) for check in row_checks(spec)]
    quarantine: dict[int, str] = {}
    for o in outcomes:
        if o.gate == "quarantine" and not o.success:
            for row in o.failing_rows:
                quarantine.setdefault(row, f"{o.expectation}({o.column}): {o.notes}")
    ids = list(result.run_results)
    page = _result_page(_context(str(gx_root)), gx_root, ids[0]) if ids else INDEX
    return ValidationReport(
        suite=spec["name"],
        outcomes=outcomes,
        docs_url=docs_link(gx_root, page),
        quarantine=quarantine,
        result_ids=ids,
    )


def _run_checkpoint(frame: pd.DataFrame, spec: dict, asset: str, gx_root: Path):
    import great_expectations as gx
    from great_expectations.core import ExpectationSuite

    context = _context(str(gx_root))
    source = context.data_sources.add_or_update_pandas(name="retrainer")
    data_asset = next((a for a in source.assets if a.name == asset), None) or (
        source.add_dataframe_asset(name=asset)
    )
    batch = next((b for b in data_asset.batch_definitions if b.name == "whole"), None) or (
        data_asset.add_batch_definition_whole_dataframe("whole")
    )
    suite = context.suites.add_or_update(
        ExpectationSuite(name=spec["name"], expectations=spec["expectations"])
    )
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=asset, data=batch, suite=suite)
    )
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=asset,
            validation_definitions=[definition],
            # No UpdateDataDocsAction: it recompiles GX's Jinja templates on every run (0.67 s
            # of a 1.2 s checkpoint on a feed batch). update_data_docs() renders a stage's
            # new results in one incremental build instead.
            result_format={
                "result_format": "COMPLETE",
                "unexpected_index_column_names": [ROW_ID],
                "partial_unexpected_count": SAMPLE_ROWS,
            },
        )
    )
    return checkpoint.run(batch_parameters={"dataframe": frame})


def _result_page(context, gx_root: Path, result_id) -> str:
    """The path of a validation result's page, relative to the Data Docs site."""
    (found,) = context.get_docs_sites_urls(
        resource_identifier=result_id, site_name=SITE, only_if_exists=False
    )
    page = Path(found["site_url"].removeprefix("file://"))
    return page.relative_to(data_docs_site(gx_root)).as_posix()


def validate_table(
    frame: pd.DataFrame, suite_path: Path, asset: str, gx_root: Path
) -> ValidationReport:
    """Validate a whole table (numbering its rows so failures can be named); update Data Docs."""
    report = validate(frame.assign(**{ROW_ID: np.arange(len(frame))}), suite_path, asset, gx_root)
    update_data_docs(gx_root, [report])
    return report


def docs_link(gx_root: Path, page: str = INDEX) -> str:
    """A Data Docs page as a link: on the docs server ``make up`` runs, else a file URL.

    Browsers open ``file://`` links only when typed in, not from a page such as the Prefect
    UI, so the served address is the one to publish whenever the server runs.
    """
    served = home().stack_url(DATA_DOCS_URL_FILE)
    if served and data_docs_site(gx_root) == data_docs_site(home().gx):
        return f"{served.rstrip('/')}/{page}"
    return (data_docs_site(gx_root) / page).as_uri()


def docs_url(gx_root: Path) -> str:
    """The Data Docs site's index page, as a link."""
    return docs_link(gx_root)


def update_data_docs(gx_root: Path, reports: list[ValidationReport]) -> str:
    """Render the pages of these validation results and the index (incremental); return URL."""
    ids = [i for report in reports for i in report.result_ids]
    if ids:
        with file_lock(gx_root / LOCK):
            _context(str(gx_root)).build_data_docs(resource_identifiers=ids)
    return docs_url(gx_root)
