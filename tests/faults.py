"""Helpers that make a fault happen for real: a process that is gone, a server that never
answers."""

import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from retrainer.boundaries import tracking


def dead_process_tags() -> dict[str, str]:
    """MLflow owner tags of a process that has ended, as a SIGKILLed run leaves them."""
    child = subprocess.Popen(["true"])
    child.wait()
    return {**tracking.owner_tags(), tracking.OWNER_PID: str(child.pid)}


@contextmanager
def silent_server() -> Iterator[int]:
    """A loopback TCP port that accepts connections and never says a word (a hung server)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        server.close()
