"""Locks that hold whether or not a Prefect server runs the flow: ``flock`` on files in the home.

A Prefect global concurrency limit only locks when a server has the limit (a plain
``retrainer run`` has none: Prefect logs "Concurrency limits ... do not exist - skipping
acquisition" and locks nothing). An advisory ``flock`` on a file under
``$RETRAINER_HOME/locks`` works for every process on the machine that shares the home, and
the kernel releases it when the holder dies, even by SIGKILL: a crash never leaves it taken.
"""

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

POLL_SECONDS = 0.1


class LockTimeout(TimeoutError):
    """Another process held the lock for longer than we were willing to wait."""


@contextmanager
def file_lock(
    path: Path, timeout: float | None = None, waiting: Callable[[], None] | None = None
) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` for the block; wait up to ``timeout`` s (None: ever).

    ``waiting`` is called once when the lock is found taken, before waiting for it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if waiting is not None:
                    waiting()
                    waiting = None
                if deadline is not None and time.monotonic() > deadline:
                    raise LockTimeout(
                        f"{path} is held by another process (waited {timeout:.0f} s)"
                    ) from None
                time.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
