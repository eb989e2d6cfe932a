"""`make up` / `make down` process handling: whole process groups, never a stranger's pid.

These start real (small) processes, so they live beside the end-to-end tests, not in the
unit tier.
"""

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from retrainer.boundaries.settings import Home
from retrainer.operations import processes, stack
from retrainer.operations.servers import SERVE

pytestmark = pytest.mark.e2e


@pytest.fixture
def h(tmp_path: Path) -> Home:
    home = Home(tmp_path)
    home.stack.mkdir()
    home.logs.mkdir()
    return home


def _group(pgid: int) -> list[int]:
    """Live (non-zombie) members of a process group."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[2] == str(pgid) and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def _wait_for(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_down_stops_the_process_and_everything_it_started(h: Home):
    # Like serve and its flow-run subprocesses: a leader with a child in its group.
    processes.spawn(h, SERVE, ["sh", "-c", "sleep 300 & sleep 300; wait"], dict(os.environ))
    pid = stack.running(h)[SERVE]
    assert _wait_for(lambda: len(_group(pid)) == 3)  # sh and two sleeps

    stopped = stack.down(h, echo=lambda _: None)

    assert stopped == [SERVE]
    assert _group(pid) == []
    assert stack.running(h) == {}
    assert not (h.stack / "serve.pid").exists()


def test_a_pid_file_naming_a_process_the_stack_did_not_start_is_left_alone(h: Home):
    stranger = subprocess.Popen(["sleep", "300"])
    try:
        (h.stack / "serve.pid").write_text(f"{stranger.pid}\n")

        assert stack.running(h) == {}
        assert stack.down(h, echo=lambda _: None) == []
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


def test_up_refuses_a_taken_port_before_starting_anything(h: Home):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        options = stack.StackOptions(
            configs=[],
            prefect_port=port,
            mlflow_port=processes.free_port(),
            data_docs_port=processes.free_port(),
        )

        with pytest.raises(
            stack.StackError, match=f"port {port} on 127.0.0.1 is taken.*--prefect-port"
        ):
            stack.up(h, options, echo=lambda _: None)

    assert stack.running(h) == {}
