"""Which ingestion failures are retried: transient I/O yes, rejected data no."""

import pytest
from prefect.states import Failed
from sqlalchemy.exc import OperationalError

from tasks.ingest import RejectedDeliveryError, transient


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (ConnectionRefusedError("db down"), True),
        (OperationalError("select 1", {}, Exception("server closed the connection")), True),
        (RejectedDeliveryError("bad file"), False),
        (ValueError("bug"), False),
    ],
)
def test_only_transient_errors_are_retried(error: Exception, retried: bool):
    assert transient(None, None, Failed(data=error)) is retried
