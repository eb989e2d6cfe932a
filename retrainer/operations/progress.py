"""A quiet terminal for long work: one line of progress, everything else in a log file.

While a flow runs, Prefect prints every log line (and a failing task's traceback, more than
once), MLflow prints its own, libraries warn. ``quiet_terminal`` sends the process's whole
output, file descriptors 1 and 2 and so also child processes and C libraries, to a log file
and draws the progress on the real terminal. The logs still reach the Prefect UI through
Prefect's own API handler; the log file holds the full traces.
"""

import logging
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.spinner import Spinner

RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")


def step_name(record: logging.LogRecord) -> str | None:
    """The task a Prefect log record comes from, named as the flow's table of contents names it.

    Prefect suffixes task run names with three hex digits (``read-validated-be7``) unless the
    task names its runs itself (``ingest-flights``); the suffix says nothing to a person.
    """
    run = getattr(record, "task_run_name", None)
    task = getattr(record, "task_name", None)
    if not run:
        return None
    if task and re.fullmatch(rf"{re.escape(task)}-[0-9a-f]{{3}}", run):
        return task
    return run


class Steps(logging.Handler):
    """Follows a flow run's log records: a line per finished step, a spinner on the current."""

    def __init__(self, console: Console, title: str) -> None:
        super().__init__(logging.INFO)
        self.console = console
        self.title = title
        self.started = time.monotonic()
        self.current: str | None = None
        self.flow_run_id: str | None = None
        self.spinner = Spinner("dots")
        self.live = Live(
            self,
            console=console,
            transient=True,
            refresh_per_second=8,
            redirect_stdout=False,
            redirect_stderr=False,
        )

    def __rich__(self) -> Spinner:
        """The spinner line, with the time so far and the current step."""
        elapsed = time.monotonic() - self.started
        doing = f"  {self.current}" if self.current else ""
        self.spinner.update(text=f"{self.title}  {elapsed:4.0f} s{doing}")
        return self.spinner

    def emit(self, record: logging.LogRecord) -> None:
        """Note the flow run and the step this record belongs to."""
        self.flow_run_id = self.flow_run_id or getattr(record, "flow_run_id", None)
        step = step_name(record)
        if step and step != self.current:
            self.finish_step()
            self.current = step

    def finish_step(self, mark: str = "[green]✓[/green]") -> None:
        """Print the current step as done (or as what ``mark`` says)."""
        if self.current:
            self.console.print(f"  {mark} {self.current}")


@contextmanager
def quiet_terminal(log: Path, title: str) -> Iterator[Steps]:
    """Run the block with all output going to ``log``; show its steps on the terminal."""
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = open(os.dup(saved[1]), "w", encoding="utf-8")  # noqa: SIM115 (closed below)
    steps = Steps(Console(file=terminal, highlight=False), title)
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"\n--- {datetime.now(UTC).isoformat()} {' '.join(sys.argv)}\n")
        out.flush()
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
        loggers = [logging.getLogger(name) for name in RUN_LOGGERS]
        for logger in loggers:
            logger.addHandler(steps)
        try:
            # Python-level too: a stream object that is not file descriptor 2 (a test
            # runner's, or one a library set up meanwhile) follows sys.stderr, not the fd.
            with steps.live, redirect_stdout(out), redirect_stderr(out):
                yield steps
        finally:
            for logger in loggers:
                logger.removeHandler(steps)
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            terminal.close()
