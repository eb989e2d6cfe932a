"""Registry stage: log the run and model to MLflow, gate promotion, move the aliases."""

from typing import Any
from uuid import UUID

from prefect import get_client, get_run_logger, runtime, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from retrainer import tracking
from retrainer.approval import Verdict, review
from retrainer.config import RetrainConfig
from retrainer.evaluation import classification_metrics
from retrainer.features import Split, TrainingTable
from retrainer.home import home
from retrainer.promotion import Decision, decide
from retrainer.stack import MLFLOW_UI_URL_FILE, read_url
from tasks.evaluate import Evaluation, test_predictions
from tasks.features import content_hash
from tasks.train import TrainedModel, model_inputs


def _flat_params(config: RetrainConfig, trained: TrainedModel, split: Split) -> dict[str, Any]:
    return {
        "model_family": config.model.family,
        **{f"model.{k}": v for k, v in config.model.params.items()},
        "features": ",".join(trained.features),
        "prediction_horizon_hours": config.features.prediction_horizon_hours,
        "train_months": ",".join(split.periods["train"]),
        "validation_months": ",".join(split.periods["validation"]),
        "test_months": ",".join(split.periods["test"]),
        "train_rows": len(split.train) + len(split.validation),
        "test_rows": len(split.test),
        "threshold": round(trained.threshold, 6),
    }


@task(name="log-to-mlflow", cache_policy=NO_CACHE)
def log_to_mlflow(
    config: RetrainConfig,
    table: TrainingTable,
    split: Split,
    trained: TrainedModel,
    evaluation: Evaluation,
    data_reports: dict,
) -> tracking.LoggedModel:
    """Params, metrics, plots, data hash and the model (signature, input example); register it."""
    h = home()
    experiment_id = tracking.use_experiment(h.mlflow_uri, config.mlflow.experiment, h.mlartifacts)
    digest = content_hash(table.frame)
    metrics = {
        **{f"test_{k}": v for k, v in evaluation.metrics.items()},
        **{f"validation_{k}": v for k, v in trained.validation_metrics.items()},
    }
    example = model_inputs(config, split.test.head(5)).drop(columns=[config.target.name])
    logged = tracking.log_training_run(
        experiment_id=experiment_id,
        run_name=current_run_name(config),
        registered_model=config.mlflow.registered_model,
        model=trained.pipeline,
        params=_flat_params(config, trained, split),
        metrics=metrics,
        tags={
            "dataset": config.name,
            "training_data_sha256": digest,
            "prefect_flow_run_id": str(runtime.flow_run.id or ""),
        },
        figures=evaluation.figures,
        documents={
            **{f"data/{name}.json": report for name, report in data_reports.items()},
            "config.json": config.model_dump(mode="json"),
            "explain/permutation_importance.json": evaluation.importance,
        },
        input_example=example,
        training_data=table.frame,
        data_digest=digest,
    )
    get_run_logger().info(
        "logged run %s as %s version %s",
        logged.run_id,
        config.mlflow.registered_model,
        logged.version,
    )
    publish_mlflow_links(config, logged)
    return logged


def current_run_name(config: RetrainConfig) -> str:
    """This flow run's name as the Prefect UI shows it now, so both UIs name the run alike."""
    if not runtime.flow_run.id:
        return f"retrain-{config.name}"
    # Read back, not from the run context: the name-run task renamed the run after ingest.
    with get_client(sync_client=True) as client:
        return client.read_flow_run(UUID(runtime.flow_run.id)).name


def mlflow_ui_url() -> str | None:
    """The MLflow UI to link to: the server ``make up`` started, or a tracking server in use."""
    h = home()
    started = read_url(h, MLFLOW_UI_URL_FILE)
    if started:
        return started.rstrip("/")
    return h.mlflow_uri.rstrip("/") if h.mlflow_uri.startswith("http") else None


def publish_mlflow_links(config: RetrainConfig, logged: tracking.LoggedModel) -> None:
    """Link artifacts to the MLflow run and model version (a note when no UI is running)."""
    model, version = config.mlflow.registered_model, logged.version
    ui = mlflow_ui_url()
    if ui is None:
        create_markdown_artifact(
            key=f"mlflow-{config.name}",
            markdown=(
                f"MLflow run `{logged.run_id}`, model `{model}` version {version} in "
                f"`{home().mlflow_uri}`. No MLflow UI was running: `make up` starts one."
            ),
            description="Where this run is in MLflow",
        )
        return
    create_link_artifact(
        key=f"mlflow-run-{config.name}",
        link=f"{ui}/#/experiments/{logged.experiment_id}/runs/{logged.run_id}",
        link_text=f"MLflow run {logged.run_id}",
        description="The MLflow run: parameters, metrics, plots, data lineage",
    )
    create_link_artifact(
        key=f"mlflow-model-{config.name}",
        link=f"{ui}/#/models/{model}/versions/{version}",
        link_text=f"{model} version {version}",
        description="The registered model version and its aliases",
    )


@task(name="score-champion", cache_policy=NO_CACHE)
def score_champion(config: RetrainConfig, split: Split) -> tuple[str | None, dict | None]:
    """The current champion's version and its metrics on this run's test rows."""
    tracking.use_experiment(home().mlflow_uri, config.mlflow.experiment, home().mlartifacts)
    version = tracking.alias_version(config.mlflow.registered_model, tracking.CHAMPION)
    if version is None:
        return None, None
    try:
        champion = tracking.load_model(config.mlflow.registered_model, version)
        y_true, proba = test_predictions(config, champion, split)
    except (KeyError, ValueError) as exc:
        get_run_logger().warning("champion v%s cannot score this test set: %s", version, exc)
        return version, None
    threshold = tracking.version_threshold(config.mlflow.registered_model, version)
    return version, classification_metrics(y_true, proba, threshold)


@task(name="promotion-gate", cache_policy=NO_CACHE)
def promotion_gate(
    config: RetrainConfig,
    logged: tracking.LoggedModel,
    evaluation: Evaluation,
    champion: tuple[str | None, dict | None],
) -> Decision:
    """Decide whether the new version may become champion; record why, in MLflow and Prefect."""
    version, champion_metrics = champion
    metric = config.promotion.metric
    decision = decide(
        evaluation.metrics[metric],
        None if champion_metrics is None else champion_metrics[metric],
        version,
        config.promotion,
    )
    record_decision(config, logged, decision)
    return decision


def record_decision(
    config: RetrainConfig, logged: tracking.LoggedModel, decision: Decision
) -> None:
    """The decision and its reason as MLflow tags and a Prefect markdown artifact."""
    tracking.record_decision(
        config.mlflow.registered_model, logged.version, logged.run_id, decision.as_dict()
    )
    metric = decision.metric
    before = "-" if decision.champion_metric is None else f"{decision.champion_metric:.4f}"
    champion = f"v{decision.champion_before}" if decision.champion_before else "-"
    create_markdown_artifact(
        key=f"promotion-{config.name}",
        markdown=(
            f"### {config.mlflow.registered_model} v{logged.version}: **{decision.decision}**\n\n"
            f"{decision.reason}\n\n"
            f"| | {metric} |\n|---|---|\n| challenger v{logged.version} | "
            f"{decision.challenger_metric:.4f} |\n| champion {champion} | "
            f"{before} |\n\n"
            f"MLflow run `{logged.run_id}`, model `{logged.model_uri}`"
        ),
        description="Promotion decision",
    )


@task(name="apply-review", cache_policy=NO_CACHE)
def apply_review(
    config: RetrainConfig, logged: tracking.LoggedModel, decision: Decision, verdict: Verdict
) -> Decision:
    """Gate: with approval required, promote only what a reviewer approved in time."""
    tracking.use_experiment(home().mlflow_uri, config.mlflow.experiment, home().mlartifacts)
    champion_now = tracking.alias_version(config.mlflow.registered_model, tracking.CHAMPION)
    reviewed = review(decision, verdict, champion_now)
    get_run_logger().info("after review: %s (%s)", reviewed.decision, reviewed.reason)
    record_decision(config, logged, reviewed)
    return reviewed


@task(name="move-aliases", cache_policy=NO_CACHE)
def move_aliases(config: RetrainConfig, logged: tracking.LoggedModel, decision: Decision) -> str:
    """Promoted: ``champion`` moves to the new version. Otherwise it becomes ``challenger``."""
    alias = tracking.CHAMPION if decision.promote else tracking.CHALLENGER
    tracking.set_alias(config.mlflow.registered_model, alias, logged.version)
    get_run_logger().info("%s v%s is now %s", config.mlflow.registered_model, logged.version, alias)
    return alias
