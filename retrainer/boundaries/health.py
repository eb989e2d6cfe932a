"""Checks before any work starts: is the tracking server there, will the lake take writes?

A dead or unreachable MLflow server used to be found after ingestion and training, at the
first MLflow call, which then retried for minutes and buried the cause in hundreds of
lines. These checks take seconds, retry with backoff, and end in one line that says what
failed and what to do.
"""

import errno
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from retrainer.boundaries.settings import mlflow_credentials

LOW_SPACE_BYTES = 512 * 2**20


class ServiceUnavailableError(RuntimeError):
    """Something the run needs is down or refuses us: nothing was started."""


def check_tracking_server(
    uri: str,
    timeout: float = 10.0,
    attempts: int = 3,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Raise ``ServiceUnavailableError`` unless the MLflow server at ``uri`` lets us in.

    A local database (``sqlite:///``) needs no server and passes. Each attempt waits up to
    ``timeout`` seconds; attempts are spaced 1 s, 4 s, ... apart.
    """
    if not uri.startswith(("http://", "https://")):
        return
    base, delay, started = uri.rstrip("/"), 1.0, time.monotonic()
    for attempt in range(1, attempts + 1):
        try:
            response = httpx.get(
                f"{base}/api/2.0/mlflow/experiments/search",
                params={"max_results": 1},
                auth=mlflow_credentials(),
                timeout=timeout,
            )
        except httpx.TimeoutException:
            problem = f"did not answer within {timeout:.0f} s"
        except httpx.HTTPError as exc:
            problem = f"does not answer ({type(exc).__name__}: {exc})"
        else:
            if response.status_code in (401, 403):
                raise ServiceUnavailableError(
                    f"MLflow tracking server at {base} refused our credentials "
                    f"({response.status_code}): set MLFLOW_TRACKING_USERNAME and "
                    "MLFLOW_TRACKING_PASSWORD"
                )
            if response.status_code < 500:
                return
            problem = f"answers {response.status_code}"
        if attempt < attempts:
            sleep(delay)
            delay *= 4
    raise ServiceUnavailableError(
        f"MLflow tracking server at {base} {problem} ({attempts} attempts over "
        f"{time.monotonic() - started:.0f} s); nothing was started: start it (`make up`) or "
        "point MLFLOW_TRACKING_URI at a running one"
    )


def check_lake(root: Path) -> int:
    """Raise ``ServiceUnavailableError`` unless a file can be written in the lake; free bytes.

    The probe is written and synced like lake files are, so a full disk fails here, before
    anything is ingested, rather than in the middle of a delivery.
    """
    probe = root / f".probe.{os.getpid()}.tmp"
    try:
        root.mkdir(parents=True, exist_ok=True)
        with open(probe, "wb") as fh:
            fh.write(b"retrainer")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        hint = "free space there" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "fix it"
        raise ServiceUnavailableError(
            f"the lake at {root} cannot be written: {exc.strerror or exc}; nothing was "
            f"started: {hint} and run again"
        ) from exc
    finally:
        probe.unlink(missing_ok=True)
    return shutil.disk_usage(root).free
