"""A source behind a password: the retrain uses it, and nothing keeps a copy of it.

The planes table lives in a real PostgreSQL cluster that demands a password. The config names
the environment variable that holds it; the run must succeed (so the password was used) and
the password must appear in no flow parameter, deployment, log line, MLflow artifact or file
under RETRAINER_HOME.
"""

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from deployments import build_deployments
from flows.retrain import retrain
from retrainer.boundaries import demo
from retrainer.domain.config import DataSet, DeploymentConfig, RetrainConfig
from tests.postgres import postgres_cluster

pytestmark = pytest.mark.flow

PASSWORD = "pl4nes-Secret-7781"
VARIABLE = "RETRAINER_TEST_PLANES_PASSWORD"


@pytest.fixture
def planes_behind_a_password() -> str:
    """The demo's planes table in a cluster that wants ``PASSWORD``; its URL has none."""
    with postgres_cluster(password=PASSWORD) as url:
        engine = sa.create_engine(sa.make_url(url).set(password=PASSWORD))
        with engine.begin() as conn:
            demo._dataset("planes").to_sql("planes", conn, index=False)
        engine.dispose()
        yield url


def _files_holding(root: Path, needle: bytes) -> list[str]:
    return [
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and needle in path.read_bytes()
    ]


def test_a_password_is_used_and_never_kept(
    planes_behind_a_password: str,
    flights_config: RetrainConfig,
    landed: Path,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    from prefect import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    config = flights_config.model_copy(deep=True)
    planes = config.source("planes")
    planes.url, planes.password_env = planes_behind_a_password, VARIABLE
    (landed / "planes.db").unlink()  # the planes can only come from PostgreSQL
    monkeypatch.setenv(VARIABLE, PASSWORD)

    state = retrain(config, return_state=True)

    assert state.is_completed(), state.message
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))
    assert any("planes: 1 new deliveries" in log.message for log in logs)
    assert PASSWORD not in json.dumps(run.parameters)
    assert not [log.message for log in logs if PASSWORD in log.message]
    (deployment, *_) = build_deployments([DataSet(config, DeploymentConfig())])
    assert PASSWORD not in json.dumps(deployment.parameters)
    assert _files_holding(home, PASSWORD.encode()) == []
