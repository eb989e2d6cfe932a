"""A throwaway PostgreSQL cluster from the machine's packages, for tests that need a real one."""

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")
USER = "retrainer"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres_cluster(password: str | None = None) -> Iterator[str]:
    """Start a cluster on a free loopback port (as the `postgres` user); yield its URL.

    With ``password``, the server demands it (scram-sha-256) and the URL carries none: the
    caller supplies it the way the project does.
    """
    if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
        pytest.skip("PostgreSQL server binaries are not installed on this machine")
    if os.geteuid() != 0:
        pytest.skip("starting a cluster as another user needs root here")
    # Not under pytest's tmp_path: its parents are private to root, the server runs as postgres.
    data = Path(tempfile.mkdtemp(prefix="retrainer-pg-"))
    shutil.chown(data, "postgres", "postgres")
    port = _free_port()

    def as_postgres(*argv: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True, capture_output=True)

    auth = ["-A", "trust"]
    if password is not None:
        pwfile = data / "pwfile"
        pwfile.write_text(password + "\n")
        shutil.chown(pwfile, "postgres", "postgres")
        auth = ["-A", "scram-sha-256", f"--pwfile={pwfile}"]
    as_postgres(str(PG_BIN / "initdb"), "-D", str(data / "db"), *auth, "-U", USER)
    opts = f"-p {port} -k {data} -c listen_addresses=127.0.0.1"
    # -l: the server must not inherit our pipes, or capturing pg_ctl's output never ends.
    log = data / "server.log"
    db = str(data / "db")
    as_postgres(str(PG_BIN / "pg_ctl"), "-D", db, "-l", str(log), "-o", opts, "-w", "start")
    try:
        yield f"postgresql+psycopg2://{USER}@127.0.0.1:{port}/postgres"
    finally:
        as_postgres(str(PG_BIN / "pg_ctl"), "-D", db, "-m", "fast", "-w", "stop")
        shutil.rmtree(data, ignore_errors=True)
