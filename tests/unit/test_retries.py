"""Which ingestion failures are retried: transient I/O yes, rejected data no."""

import errno
from pathlib import Path

import pytest
from prefect.states import Failed
from sqlalchemy.exc import OperationalError

from retrainer.boundaries.lake import LakeWriteError
from tasks.ingest import RejectedDeliveryError, transient


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (ConnectionRefusedError("db down"), True),
        (OperationalError("select 1", {}, Exception("server closed the connection")), True),
        (RejectedDeliveryError("bad file"), False),
        (LakeWriteError(Path("p"), OSError(errno.ENOSPC, "No space left on device")), False),
        (LakeWriteError(Path("p"), OSError(errno.EIO, "I/O error")), True),
        (ValueError("bug"), False),
    ],
)
def test_only_transient_errors_are_retried(error: Exception, retried: bool):
    assert transient(None, None, Failed(data=error)) is retried
