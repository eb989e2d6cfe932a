"""Process supervision for the local stack: start, find and stop whole process groups.

Each long-running process is started in its own session, so stopping it stops everything it
spawned (the serve process runs every flow run as a child). Its pid goes to
``$RETRAINER_HOME/stack/<name>.pid`` and its output to ``$RETRAINER_HOME/logs/<name>.log``.
"""

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from retrainer.boundaries.settings import PROJECT_ROOT, Home

# Put into every child's environment: `down` only signals a pid whose environment carries it,
# so a pid file left over from a reboot can never make it kill an unrelated process.
MARKER = "RETRAINER_STACK_PROCESS"


class StackError(RuntimeError):
    """A server did not start, did not answer in time, or a port is taken."""


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def spawn(h: Home, name: str, argv: list[str], env: dict[str, str]) -> int:
    """Start ``argv`` in a session of its own, logging to ``logs/<name>.log``; return its pid."""
    h.stack.mkdir(parents=True, exist_ok=True)
    h.logs.mkdir(parents=True, exist_ok=True)
    with open(h.logs / f"{name}.log", "ab") as out:
        out.write(f"\n--- {datetime.now(UTC).isoformat()} {' '.join(argv)}\n".encode())
        out.flush()
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env | {MARKER: f"{h.root}:{name}"},
            cwd=PROJECT_ROOT,
            start_new_session=True,
        )
    (h.stack / f"{name}.pid").write_text(f"{process.pid}\n")
    return process.pid


def wait_ready(h: Home, name: str, ready: Callable[[], bool], timeout: float) -> None:
    """Wait until ``ready()``; raise with the log's tail if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if not alive(h, name):
            raise StackError(f"{name} exited while starting:\n{tail(h.logs / f'{name}.log')}")
        time.sleep(0.5)
    raise StackError(
        f"{name} did not answer within {timeout:.0f} s:\n{tail(h.logs / f'{name}.log')}"
    )


def pid(h: Home, name: str) -> int | None:
    """The pid recorded for ``name``, or None."""
    try:
        return int((h.stack / f"{name}.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def alive(h: Home, name: str) -> bool:
    """True when ``name``'s recorded pid is alive and is the process this home started."""
    found = pid(h, name)
    if found is None:
        return False
    _reap(found)
    proc = Path(f"/proc/{found}")
    if not proc.exists():
        return _signalable(found)
    try:
        if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
        environ = _environ(proc)
    except OSError:
        return False
    return f"{MARKER}={h.root}:{name}".encode() in environ.split(b"\0")


def _environ(proc: Path) -> bytes:
    """A process's environment; waits out the moment in exec when the kernel shows none.

    ``Popen`` returns once the exec closes its error pipe, a little before the kernel has
    set up the new environment: read then, ``/proc/<pid>/environ`` is empty (seen in CI
    under load, right after ``spawn``). Every process ``spawn`` starts has the marker, so an
    empty one is worth a short wait.
    """
    deadline = time.monotonic() + 2.0
    while not (environ := (proc / "environ").read_bytes()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return environ


def stop(h: Home, name: str) -> int | None:
    """Stop ``name``'s whole process group if it is alive; forget its pid. The pid stopped."""
    found = pid(h, name)
    stopped = None
    if found is not None and alive(h, name):
        stop_group(found)
        stopped = found
    (h.stack / f"{name}.pid").unlink(missing_ok=True)
    return stopped


def _signalable(target: int) -> bool:
    try:
        os.kill(target, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reap(target: int) -> None:
    # When `up` ran in this very process (tests), a stopped child stays a zombie until reaped.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(target, os.WNOHANG)


def group_alive(pgid: int) -> bool:
    """True while any process of group ``pgid`` is alive (zombies do not count)."""
    _reap(pgid)
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not Path("/proc").exists():
        return True
    # killpg also succeeds while only zombies are left, which their new parent reaps later.
    return any(_live_member(stat, pgid) for stat in Path("/proc").glob("[0-9]*/stat"))


def _live_member(stat: Path, pgid: int) -> bool:
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    # After the command name: state, ppid, pgrp (proc(5)).
    return fields[2] == str(pgid) and fields[0] != "Z"


def stop_group(pgid: int, grace_seconds: float = 20.0) -> None:
    """SIGTERM the group, then SIGKILL what is left after ``grace_seconds``."""
    for sig, wait in ((signal.SIGTERM, grace_seconds), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not group_alive(pgid):
                return
            time.sleep(0.2)
    raise StackError(f"process group {pgid} survived SIGKILL")


def tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a log file."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"
