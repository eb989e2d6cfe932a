"""Only "no such model or alias" means no champion; any other registry answer is an error.

A real MLflow client talks to a tiny HTTP server on loopback that answers as a tracking
server with a permission problem, an outage or an empty registry would.
"""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import mlflow  # imported at collection: its import asks `uname` once, a process
import pytest

from retrainer.boundaries import tracking


class _Registry(BaseHTTPRequestHandler):
    answer: tuple[int, dict] = (200, {})

    def do_GET(self) -> None:
        status, body = self.answer
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Registry]]:
    """An HTTP 'tracking server' whose answer the test sets; MLflow's client pointed at it."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    handler = type("Registry", (_Registry,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    tracking.connect(f"http://127.0.0.1:{server.server_port}")
    yield handler
    server.shutdown()
    mlflow.set_tracking_uri(None)


@pytest.mark.parametrize(
    ("status", "code"),
    [(403, "PERMISSION_DENIED"), (500, "INTERNAL_ERROR"), (401, "UNAUTHENTICATED")],
)
def test_a_registry_that_cannot_answer_is_an_error_not_no_champion(registry, status, code):
    registry.answer = (status, {"error_code": code, "message": "not for you"})

    with pytest.raises(tracking.RegistryError, match=f"flights-delay is 'champion': {code}"):
        tracking.alias_version("flights-delay", tracking.CHAMPION)


def test_no_registered_model_means_no_champion(registry):
    registry.answer = (404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no model"})
    assert tracking.alias_version("flights-delay", tracking.CHAMPION) is None


def test_a_model_without_the_alias_has_no_champion(registry):
    model = {"name": "flights-delay", "aliases": [{"alias": "challenger", "version": "2"}]}
    registry.answer = (200, {"registered_model": model})

    assert tracking.alias_version("flights-delay", tracking.CHAMPION) is None
    assert tracking.alias_version("flights-delay", tracking.CHALLENGER) == "2"
