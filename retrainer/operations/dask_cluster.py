"""A Dask scheduler and its workers as processes of their own, as an operator starts them.

``dask scheduler`` on a free loopback port and ``dask worker`` processes connected to it,
each logging to ``RETRAINER_HOME/logs/dask-*.log`` with its pid under ``stack/``, stopped
with their process groups. The benchmark's external-scheduler row and the end-to-end test
use it; on other machines the same two commands run there, pointed at the scheduler.
"""

import os
import sys

from retrainer.boundaries.settings import Home
from retrainer.operations import processes

SCHEDULER = "dask-scheduler"
WORKERS = "dask-workers"


def start(h: Home, workers: int, threads: int = 1, timeout: float = 90.0) -> str:
    """Start a scheduler and ``workers`` worker processes of ``threads`` threads; its address."""
    from distributed import Client

    port = processes.free_port()
    address = f"tcp://127.0.0.1:{port}"
    python = [sys.executable, "-m"]
    scheduler = [*python, "distributed.cli.dask_scheduler", "--host", "127.0.0.1"]
    scheduler += ["--port", str(port), "--no-dashboard"]
    processes.spawn(h, SCHEDULER, scheduler, dict(os.environ))
    listening = lambda: not processes.port_is_free("127.0.0.1", port)  # noqa: E731
    processes.wait_ready(h, SCHEDULER, listening, timeout)
    worker = [*python, "distributed.cli.dask_worker", address, "--no-dashboard"]
    worker += ["--nworkers", str(workers), "--nthreads", str(threads)]
    worker += ["--local-directory", str(h.root / "dask")]
    processes.spawn(h, WORKERS, worker, dict(os.environ))
    try:
        with Client(address, timeout=timeout) as client:
            client.wait_for_workers(workers, timeout=timeout)
    except TimeoutError as exc:
        log = processes.tail(h.logs / f"{WORKERS}.log")
        raise processes.StackError(f"Dask workers did not connect to {address}:\n{log}") from exc
    return address


def stop(h: Home) -> None:
    """Stop the workers, then the scheduler (what ``start`` started in this home)."""
    processes.stop(h, WORKERS)
    processes.stop(h, SCHEDULER)
