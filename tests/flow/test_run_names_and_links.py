"""In the Prefect UI a retrain explains itself: its name, tags and links to MLflow."""

from pathlib import Path

import pytest
from mlflow import MlflowClient

from flows.retrain import retrain
from retrainer.domain.config import RetrainConfig

pytestmark = pytest.mark.flow


def _artifacts(flow_run_id) -> dict[str, str]:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    return {a.key: str(a.data) for a in found if a.key}


def test_the_run_is_named_after_its_data_and_links_to_mlflow(
    flights_config: RetrainConfig, landed: Path, home: Path
):
    from prefect import get_client

    (home / "stack").mkdir()
    (home / "stack" / "mlflow_ui_url").write_text("http://127.0.0.1:5999\n")

    state = retrain(flights_config, return_state=True)

    summary = state.result()
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
    # Four sampled months, January to April 2013, in the airline's (New York) calendar.
    assert run.name == "retrain-flights-2013-04"
    assert {"flights", "model:flights-delay", "data-through:2013-04"} <= set(run.tags)
    mlflow_run = MlflowClient().get_run(summary.run_id)
    assert mlflow_run.info.run_name == run.name
    artifacts = _artifacts(run.id)
    experiment = mlflow_run.info.experiment_id
    assert artifacts["mlflow-run-flights"].endswith(
        f"(http://127.0.0.1:5999/#/experiments/{experiment}/runs/{summary.run_id})"
    )
    assert artifacts["mlflow-model-flights"] == (
        "[flights-delay version 1](http://127.0.0.1:5999/#/models/flights-delay/versions/1)"
    )
    assert "**promoted**" in artifacts["promotion-flights"]
    assert {"metrics-flights", "validation-training-flights"} <= artifacts.keys()


def test_without_an_mlflow_ui_the_run_says_where_the_model_is(
    flights_config: RetrainConfig, home: Path
):
    from prefect import flow

    from retrainer.domain.records import LoggedModel
    from tasks.track import publish_mlflow_links

    logged = LoggedModel("abc123", "1", "flights-delay", "7")

    @flow
    def links() -> None:
        publish_mlflow_links(flights_config, logged)

    state = links(return_state=True)

    note = _artifacts(state.state_details.flow_run_id)["mlflow-flights"]
    assert "MLflow run `abc123`, model `flights-delay` version 7" in note
    assert "`make up` starts one" in note
