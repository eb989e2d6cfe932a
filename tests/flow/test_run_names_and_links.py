"""In the Prefect UI a retrain explains itself: its name, tags and links to MLflow."""

import re
from pathlib import Path

import pytest
from mlflow import MlflowClient

from flows.retrain import retrain
from retrainer.domain.config import RetrainConfig
from retrainer.domain.overrides import RunChoices
from tests.flow.conftest import flow_run_artifacts

pytestmark = pytest.mark.flow


def _flow_level(flow_run_id) -> list[str]:
    """Keys of the artifacts the flow itself created (listed first in the Artifacts tab)."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    return [a.key for a in found if a.task_run_id is None]


def test_the_run_is_named_after_its_data_and_links_to_mlflow(
    flights_config: RetrainConfig, landed: Path, home: Path, caplog: pytest.LogCaptureFixture
):
    from prefect import get_client

    (home / "stack").mkdir()
    (home / "stack" / "mlflow_ui_url").write_text("http://127.0.0.1:5999\n")

    state = retrain(flights_config, return_state=True)

    summary = state.result()
    choices = RunChoices(model_params={"max_iter": 20})
    second = retrain(flights_config, choices, return_state=True)
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
        again = client.read_flow_run(second.state_details.flow_run_id)
    # Four sampled months, January to April 2013, in the airline's (New York) calendar; the
    # second run on the same data gets a name of its own.
    # (numbered across the session: the harness's server keeps the other tests' runs)
    number = int(re.fullmatch(r"retrain-flights-2013-04 #(\d+)", run.name)[1])
    assert again.name == f"retrain-flights-2013-04 #{number + 1}"
    assert {"flights", "model:flights-delay", "data-through:2013-04"} <= set(run.tags)
    client = MlflowClient()
    mlflow_run = client.get_run(summary.run_id)
    assert mlflow_run.info.run_name == f"{run.name} v1 promoted"
    assert mlflow_run.data.tags["override.split.test_months"] == "1"
    assert mlflow_run.data.tags["mlflow.source.name"] == "flows/retrain.py"
    # The run spans the whole retrain, not only the seconds of logging.
    assert (mlflow_run.info.end_time - mlflow_run.info.start_time) / 1000 > 5
    runs = client.search_runs([mlflow_run.info.experiment_id], order_by=["start_time DESC"])
    latest = next(r for r in runs if "mlflow.parentRunId" not in r.data.tags)  # not a trial
    assert latest.data.tags["override.model.params.max_iter"] == "20"
    experiment = client.get_experiment(mlflow_run.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    assert "metrics.`test_roc_auc`" in experiment.tags["mlflow.sharedViewState.retrainer"]

    artifacts = flow_run_artifacts(run.id)
    ui, exp, training = (
        "http://127.0.0.1:5999",
        experiment.experiment_id,
        "workflowType=machine_learning",
    )
    assert artifacts["mlflow-run-flights"].endswith(
        f"({ui}/#/experiments/{exp}/runs/{summary.run_id}?{training})"
    )
    assert artifacts["mlflow-model-flights"] == (
        f"[flights-delay version 1]({ui}/#/models/flights-delay/versions/1?{training})"
    )
    assert (
        f"({ui}/#/experiments/{exp}/runs?{training}&viewStateShareKey=retrainer)"
        in (artifacts["mlflow-runs-flights"])
    )
    assert "**promoted**" in artifacts["promotion-flights"]
    assert {"metrics-flights", "validation-training-flights"} <= artifacts.keys()
    summary_text = artifacts["summary-flights"]
    assert summary_text.startswith("## flights-delay v1: **promoted**, now `champion`")
    assert (
        "first model: no champion yet" in summary_text
        and "`split.test_months` = `1`" in summary_text
    )
    assert _flow_level(run.id) == ["summary-flights"]
    assert (home / "gx" / "great_expectations.yml").exists() and not (home / "gx" / "gx").exists()
    # Quiet: the warnings nobody could act on are filtered where they arise.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for noise in ("Hint: Inferred schema", "installed pip version", "skipping acquisition"):
        assert noise not in logged


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

    note = flow_run_artifacts(state.state_details.flow_run_id)["mlflow-flights"]
    assert "MLflow run `abc123`, model `flights-delay` version 7" in note
    assert "`make up` starts one" in note
