"""Landing events: without a Prefect server nothing is sent, and nothing waits for one."""

import socket
import time

from retrainer.boundaries.prefect_api import emit_landed


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_landing_without_a_server_sends_nothing_and_does_not_wait():
    nobody = f"http://127.0.0.1:{free_port()}/api"
    started = time.monotonic()

    assert emit_landed(None, "flights", [("2013-01", ["flights/x.csv"])]) == []
    assert emit_landed(nobody, "flights", [("2013-01", ["flights/x.csv"])]) == []
    assert time.monotonic() - started < 3
