"""The `sql` source kind against a real PostgreSQL server, started and stopped by the test."""

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from retrainer import demo
from retrainer.ingest import KeyIndex, ingest_delivery
from retrainer.lake import Lake
from retrainer.paths import expectations_dir
from retrainer.sources import deliveries

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres_url():
    """A throwaway PostgreSQL cluster on a free loopback port (run as the `postgres` user)."""
    if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
        pytest.skip("PostgreSQL server binaries are not installed on this machine")
    if os.geteuid() != 0:
        pytest.skip("starting a cluster as another user needs root here")
    # Not under pytest's tmp_path: its parents are private to root, the server runs as postgres.
    data = Path(tempfile.mkdtemp(prefix="retrainer-pg-"))
    shutil.chown(data, "postgres", "postgres")
    port = free_port()

    def as_postgres(*argv: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True, capture_output=True)

    as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "retrainer")
    opts = f"-p {port} -k {data} -c listen_addresses=127.0.0.1"
    # -l: the server must not inherit our pipes, or capturing pg_ctl's output never ends.
    log = data / "server.log"
    as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts, "-w", "start")
    try:
        yield f"postgresql+psycopg2://retrainer@127.0.0.1:{port}/postgres"
    finally:
        as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(data, ignore_errors=True)


def test_planes_table_on_postgresql_lands_like_sqlite(postgres_url, tmp_path, flights_config):
    planes = demo._dataset("planes")
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        planes.to_sql("planes", conn, index=False)
    engine.dispose()
    config = flights_config.model_copy(deep=True)
    source = config.source("planes")
    source.url = postgres_url
    lake = Lake(tmp_path / "lake")

    (delivery,) = deliveries(source, tmp_path / "landing")
    result = ingest_delivery(
        lake,
        source,
        delivery,
        KeyIndex(lake, source),
        expectations_dir(),
        tmp_path / "gx",
        pd.Timestamp("2026-11-23", tz="UTC"),
    )

    assert result.record.status == "accepted" and result.record.accepted == len(planes)
    landed = lake.read_validated("planes")
    assert set(landed["tailnum"]) == set(planes["tailnum"])
    again = deliveries(source, tmp_path / "landing")[0]
    assert again.sha256 == delivery.sha256  # an unchanged table is an already-seen delivery
