"""Tracking stage: the run and its model in MLflow, linked from the Prefect run."""

from prefect import get_run_logger, runtime, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from retrainer.boundaries import tracking
from retrainer.boundaries.configs import config_overrides
from retrainer.boundaries.prefect_api import started_at
from retrainer.boundaries.settings import home
from retrainer.domain.config import RetrainConfig
from retrainer.domain.evaluation import Evaluation
from retrainer.domain.features import Split, TrainingTable
from retrainer.domain.fingerprint import CONFIG_TAG, DATA_TAG
from retrainer.domain.links import mlflow_links, runs_view
from retrainer.domain.records import LoggedModel, training_record
from retrainer.domain.reports import mlflow_location_markdown
from retrainer.domain.training import TrainedModel

KEY_METRICS = ("test_roc_auc", "test_average_precision", "test_f1", "test_log_loss")


@task(name="log-to-mlflow", cache_policy=NO_CACHE)
def log_to_mlflow(
    config: RetrainConfig,
    table: TrainingTable,
    split: Split,
    trained: TrainedModel,
    evaluation: Evaluation,
    data_reports: dict,
    run_name: str,
) -> LoggedModel:
    """Params, metrics, plots, data hash and the model (signature, input example); register it."""
    h = home()
    experiment_id = tracking.use_experiment(
        h.mlflow_uri, config.mlflow.experiment, h.mlartifacts, key_columns(config)
    )
    flow_run_id = str(runtime.flow_run.id or "")
    record = training_record(
        config,
        table,
        split,
        trained,
        evaluation,
        data_reports,
        run_name,
        flow_run_id,
        overrides=config_overrides(config),
        started_at=started_at(flow_run_id) if flow_run_id else None,
    )
    logged = tracking.log_training_run(
        experiment_id, config.mlflow.registered_model, trained.pipeline, record
    )
    # On the version too, so "has this training been done?" is one registry search.
    fingerprint = {tag: record.tags[tag] for tag in (DATA_TAG, CONFIG_TAG)}
    tracking.set_tags(logged.model, logged.version, None, fingerprint)
    get_run_logger().info("logged run %s as %s", logged.run_id, logged.model_uri)
    publish_mlflow_links(config, logged)
    return logged


def key_columns(config: RetrainConfig) -> dict:
    """The runs list's columns: the gate's metric beside the champion's, the main scores."""
    metric = config.promotion.metric
    metrics = list(dict.fromkeys([f"test_{metric}", f"champion_test_{metric}", *KEY_METRICS]))
    return runs_view(metrics, ["model_family"], ["promotion.decision"])


def publish_mlflow_links(config: RetrainConfig, logged: LoggedModel) -> None:
    """Link artifacts to the MLflow run and model version (a note when no UI is running)."""
    h = home()
    ui = tracking.ui_url(h)
    if ui is None:
        create_markdown_artifact(
            key=f"mlflow-{config.name}",
            markdown=mlflow_location_markdown(logged, h.mlflow_uri),
            description="Where this run is in MLflow",
        )
        return
    links = mlflow_links(ui, logged, tracking.RUNS_VIEW)
    create_link_artifact(
        key=f"mlflow-run-{config.name}",
        link=links.run,
        link_text=f"MLflow run {logged.run_id}",
        description="The MLflow run: parameters, metrics, plots, data lineage",
    )
    create_link_artifact(
        key=f"mlflow-model-{config.name}",
        link=links.model_version,
        link_text=f"{logged.model} version {logged.version}",
        description="The registered model version and its aliases",
    )
    create_link_artifact(
        key=f"mlflow-runs-{config.name}",
        link=links.runs,
        link_text=f"All runs of experiment {config.mlflow.experiment}",
        description="Every retrain side by side: metrics, decisions, model versions",
    )
