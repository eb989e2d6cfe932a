"""Where the training stage's fold fits run: in turn, on joblib threads, or on a Dask cluster.

``RETRAINER_PARALLEL`` chooses (``Settings.parallel``): ``joblib`` threads (the default: as
fast as the best alternative on the demo with the least memory, README, Parallel training),
``dask`` (Prefect's ``DaskTaskRunner`` on a ``LocalCluster`` started for the stage, one
worker process with a thread per core, or on the scheduler at ``RETRAINER_DASK_ADDRESS``),
or ``sequential``. Every mapper answers in job order, so the
search finds the same trials and the same winner whatever runs it.

Native threads are divided: workers x threads per fit stay within the cores a fit may use
(``fit_threads``), because fits that each run OpenMP on every core of a small machine slow
each other down many times over.

On Dask every fold fit is a Prefect task run (``fit-fold``) under the training stage's task
run. The training rows do not travel with the jobs: they are written once to a Parquet file
under ``RETRAINER_HOME/cache/parallel/`` and each worker process reads them once, checked
against their content hash. Workers on other machines therefore need RETRAINER_HOME on
shared storage at the same path, this project installed, and a Prefect server they can reach.
"""

import os
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from retrainer.boundaries import prefect_api
from retrainer.boundaries.settings import Settings, home, settings
from retrainer.domain.features import content_hash
from retrainer.domain.tuning import Mapper, in_order

Mode = Literal["joblib", "dask", "sequential"]


@dataclass(frozen=True)
class Plan:
    """How one training stage runs its fold fits: where, how many at once, threads each."""

    mode: Mode
    workers: int  # 0 on an external Dask cluster: as many as it has
    threads_per_fit: int
    address: str | None = None  # a running Dask scheduler; None: a LocalCluster for the stage
    joblib_backend: str = "threading"  # as fast as loky here, 600 MB smaller (README)
    # LocalCluster: one worker process with a thread per core (measured faster and smaller
    # than a process per core, README), or a process per core with one thread each.
    dask_processes: bool = False


def plan(cores: int, found: Settings | None = None) -> Plan:
    """The plan the settings ask for, for a stage that may use ``cores`` cores.

    On an external cluster each fit gets one native thread: its workers' threads are
    expected to match their machines' cores, as ``dask worker`` sets them by default.
    """
    found = found or settings()
    if found.parallel == "sequential":
        return Plan("sequential", 1, cores)
    if found.parallel == "dask" and found.dask_address:
        return Plan("dask", 0, 1, address=found.dask_address)
    return Plan(found.parallel, cores, 1)


def describe(chosen: Plan) -> str:
    """The plan as a log line says it: ``joblib, 2 workers x 1 thread``."""
    if chosen.mode == "sequential":
        return f"sequential, {chosen.threads_per_fit} thread(s) each"
    where = f"on {chosen.address}" if chosen.address else f"{chosen.workers} workers"
    return f"{chosen.mode}, {where} x {chosen.threads_per_fit} thread(s)"


@contextmanager
def mapper(chosen: Plan, on_worker: Any = None) -> Iterator[Mapper]:
    """A mapper for ``chosen``, open for the ``with`` block (a LocalCluster lives as long).

    ``on_worker`` is the Prefect task a Dask worker runs for one job (``tasks/train.py``'s
    ``fit-fold``): called with ``function``, ``rows`` (a ``StoredRows``) and ``job``.
    """
    if chosen.mode == "sequential":
        yield in_order
    elif chosen.mode == "joblib":
        yield joblib_mapper(chosen.workers, chosen.joblib_backend)
    else:
        with dask_mapper(chosen, on_worker) as found:
            yield found


def joblib_mapper(workers: int, backend: str = "threading") -> Mapper:
    """Jobs on ``workers`` joblib workers of ``backend`` (``threading`` or ``loky``)."""
    from joblib import Parallel, delayed

    def run(function: Callable, rows: pd.DataFrame, jobs: Sequence) -> list:
        return Parallel(n_jobs=workers, backend=backend)(delayed(function)(rows, j) for j in jobs)

    return run


@dataclass(frozen=True)
class StoredRows:
    """Training rows in a Parquet file, named by their content hash: what a job ships."""

    path: str
    sha256: str


def store_rows(rows: pd.DataFrame, folder: Path) -> StoredRows:
    """Write ``rows`` to a new Parquet file in ``folder``, atomically; the caller removes it.

    One file per stage (a uuid in its name): a stage that ends removes only its own, even
    while another stage on the same data still reads it.
    """
    sha = content_hash(rows)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{sha[:16]}-{uuid.uuid4().hex[:8]}.parquet"
    partial = path.with_suffix(".partial")
    rows.to_parquet(partial)
    partial.rename(path)
    return StoredRows(str(path), sha)


class StaleRowsError(RuntimeError):
    """A worker read training rows whose content is not what the job was given."""


_read_lock = threading.Lock()
_last_read: dict[str, pd.DataFrame] = {}  # this process's latest rows, by content hash


def read_rows(stored: StoredRows) -> pd.DataFrame:
    """The stored rows, read at most once per process (the latest rows only are kept)."""
    with _read_lock:
        if stored.sha256 not in _last_read:
            rows = pd.read_parquet(stored.path)
            if content_hash(rows) != stored.sha256:
                raise StaleRowsError(
                    f"{stored.path} does not hold the rows the job was given (hash mismatch): "
                    "do all workers see the same RETRAINER_HOME?"
                )
            _last_read.clear()
            _last_read[stored.sha256] = rows
        return _last_read[stored.sha256]


def worker_name() -> str:
    """The Dask worker running this code (its address), or this process's id."""
    try:
        from distributed import get_worker

        return f"dask worker {get_worker().address}"
    except ValueError:
        return f"process {os.getpid()}"


@contextmanager
def dask_mapper(chosen: Plan, on_worker: Any) -> Iterator[Mapper]:
    """Jobs as Prefect task runs on Prefect's Dask task runner, for the ``with`` block."""
    from prefect_dask import DaskTaskRunner

    if on_worker is None:
        raise ValueError("RETRAINER_PARALLEL=dask runs fold fits as the flow's Prefect tasks")
    if chosen.address:
        runner = DaskTaskRunner(address=chosen.address)
    else:
        workers, threads = (chosen.workers, 1) if chosen.dask_processes else (1, chosen.workers)
        cluster = {
            "n_workers": workers,
            "threads_per_worker": threads,
            "processes": chosen.dask_processes,
            "dashboard_address": None,  # no fixed port: other runs on this machine need it
        }
        runner = DaskTaskRunner(cluster_kwargs=cluster)
    folder = home().cache / "parallel"
    stored: dict[int, tuple[pd.DataFrame, StoredRows]] = {}  # by id(rows): once per stage

    def run(function: Callable, rows: pd.DataFrame, jobs: Sequence) -> list:
        if id(rows) not in stored:
            stored[id(rows)] = (rows, store_rows(rows, folder))
        shipped = stored[id(rows)][1]
        with prefect_api.api_for_workers(), _without_parent_parameters():
            futures = [
                runner.submit(on_worker, {"function": function, "rows": shipped, "job": job})
                for job in jobs
            ]
        return [future.result() for future in futures]

    try:
        with runner:
            yield run
    finally:
        for _, shipped in stored.values():
            Path(shipped.path).unlink(missing_ok=True)


@contextmanager
def _without_parent_parameters() -> Iterator[None]:
    """Submit as children of the current task run, without shipping its parameters.

    Prefect serialises the submitting task run's context, parameters included, into every
    task it sends to Dask: from the training stage that is the whole split, once per job
    (measured: +10 s for four jobs under a 320 MB parameter).
    """
    from prefect.context import TaskRunContext

    parent = TaskRunContext.get()
    if parent is None:
        yield
        return
    with parent.model_copy(update={"parameters": {}}):
        yield
