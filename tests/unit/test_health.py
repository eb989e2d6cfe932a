"""Checks before work starts: a tracking server that is down, slow or refusing us, and a lake
that takes no writes, each reported in one line. Loopback servers in threads."""

import errno
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from retrainer.boundaries.health import ServiceUnavailableError, check_lake, check_tracking_server
from retrainer.operations.processes import free_port


@contextmanager
def server(status: int, delay: threading.Event | None = None) -> Iterator[str]:
    """An HTTP server answering ``status``; with ``delay``, it answers only once that is set."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if delay is not None:
                delay.wait(5)
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        if delay is not None:
            delay.set()
        httpd.shutdown()
        httpd.server_close()


def test_a_tracking_server_nobody_runs_is_one_line_after_backed_off_retries():
    waits: list[float] = []
    uri = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ServiceUnavailableError) as caught:
        check_tracking_server(uri, timeout=1, attempts=3, sleep=waits.append)
    message = str(caught.value)
    assert waits == [1.0, 4.0]
    assert "\n" not in message and uri in message and "does not answer" in message
    assert "nothing was started" in message and "make up" in message


def test_a_tracking_server_too_slow_to_answer_is_reported_with_the_wait():
    with (
        server(200, delay=threading.Event()) as uri,
        pytest.raises(ServiceUnavailableError, match=r"did not answer within 1 s \(2 attempts"),
    ):
        check_tracking_server(uri, timeout=1, attempts=2, sleep=lambda _: None)


def test_a_tracking_server_that_refuses_us_names_the_credentials_to_set():
    with (
        server(401) as uri,
        pytest.raises(ServiceUnavailableError, match="MLFLOW_TRACKING_USERNAME"),
    ):
        check_tracking_server(uri, attempts=1)


def test_a_tracking_server_that_answers_passes_and_a_local_database_needs_none():
    with server(200) as uri:
        check_tracking_server(uri)
    check_tracking_server("sqlite:////nonexistent/mlflow.db")


def test_a_full_disk_under_the_lake_stops_the_run_before_it_starts(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(ServiceUnavailableError, match=r"No space left on device.*free space"):
        check_lake(tmp_path / "lake")
    monkeypatch.undo()
    assert list((tmp_path / "lake").iterdir()) == []
    assert check_lake(tmp_path / "lake") > 0
