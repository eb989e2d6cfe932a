"""`make up-postgres`: Prefect and MLflow keep their data in a real PostgreSQL server.

The stack starts PostgreSQL from the machine's packages, the servers use it as their backend
store, and a retrain triggered over the API lands its flow run in Prefect's database and its
MLflow run, model version and alias in MLflow's, with no password in the flows' environment.
"""

import re
import shutil
import tempfile
from pathlib import Path

import psycopg2
import pytest

from retrainer.operations import postgres, processes
from tests.e2e.conftest import started_stack

pytestmark = pytest.mark.e2e


@pytest.fixture
def traversable_root() -> Path:
    """A home the `postgres` system user can reach (pytest's own tmp dirs are root-only)."""
    try:
        postgres.binaries()
    except processes.StackError as exc:
        pytest.skip(str(exc))
    if shutil.which("runuser") is None:
        pytest.skip("runuser is needed to start PostgreSQL as its own user")
    root = Path(tempfile.mkdtemp(prefix="retrainer-pg-stack-"))
    root.chmod(0o711)
    yield root / "home"
    shutil.rmtree(root, ignore_errors=True)


def _query(port: int, password: str, database: str, sql: str) -> list[tuple]:
    conn = psycopg2.connect(
        host="127.0.0.1", port=port, user="retrainer", password=password, dbname=database
    )
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()
    finally:
        conn.close()


def test_a_triggered_retrain_lands_in_postgresql(traversable_root: Path):
    port = processes.free_port()
    with started_stack(traversable_root, postgres=True, postgres_port=port) as running:
        result = running.cli("trigger", "--wait", "--idempotency-key", "pg-1")
        assert result.returncode == 0, result.stdout + result.stderr + running.log_tail()
        run_id = re.search(r"\(([0-9a-f-]{36})\)", result.stdout).group(1)
        password = (running.home.postgres / "password").read_text().strip()

        flow_runs = _query(port, password, "prefect", "select id::text, state_type from flow_run")
        assert (run_id, "COMPLETED") in flow_runs
        runs = _query(port, password, "mlflow", "select run_uuid, status from runs")
        assert [status for _, status in runs] == ["FINISHED"]
        aliases = _query(
            port, password, "mlflow", "select name, alias from registered_model_aliases"
        )
        assert aliases == [("flights-delay", "champion")]
        serve = Path(f"/proc/{processes.pid(running.home, 'serve')}/environ").read_bytes()
        assert password.encode() not in serve
    assert not (running.home.stack / "mlflow_tracking_uri").exists()
