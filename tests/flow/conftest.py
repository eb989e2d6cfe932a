"""Flow tier: one Prefect test harness for the whole session, demo data sampled small."""

from pathlib import Path

import pytest

from retrainer.boundaries import demo

SAMPLE_EVERY = 25  # every 25th flight: about 1,000 a month, a real but quick training set
SAMPLE_MONTHS = (1, 2, 3, 4)


@pytest.fixture(scope="session", autouse=True)
def prefect_harness():
    """A temporary Prefect server and database for the session (about 16 s, once)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(autouse=True)
def mlflow_in_home(home: Path):
    """MLflow's client keeps its URI in a global: point it at this test's home."""
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{home / 'mlflow.db'}")
    yield
    mlflow.set_tracking_uri(None)


@pytest.fixture
def landed(home: Path) -> Path:
    """Four sampled demo months delivered into the landing zone."""
    for month in SAMPLE_MONTHS:
        demo.land_month(home / "landing", month, every=SAMPLE_EVERY)
    return home / "landing"


def flow_run_artifacts(flow_run_id) -> dict[str, str]:
    """The Prefect artifacts of one flow run, by key."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    return {a.key: str(a.data) for a in found if a.key}
