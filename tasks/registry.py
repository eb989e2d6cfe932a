"""Registry stage: log the run and model to MLflow, gate promotion, move the aliases."""

from typing import Any

from prefect import get_run_logger, runtime, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from retrainer import tracking
from retrainer.config import RetrainConfig
from retrainer.evaluation import classification_metrics
from retrainer.features import Split, TrainingTable
from retrainer.home import home
from retrainer.promotion import Decision, decide
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
        run_name=f"{runtime.flow_run.name or 'retrain'}-{config.name}",
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
    return logged


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
    tracking.record_decision(
        config.mlflow.registered_model, logged.version, logged.run_id, decision.as_dict()
    )
    before = "-" if decision.champion_metric is None else f"{decision.champion_metric:.4f}"
    create_markdown_artifact(
        key=f"promotion-{config.name}",
        markdown=(
            f"### {config.mlflow.registered_model} v{logged.version}: **{decision.decision}**\n\n"
            f"{decision.reason}\n\n"
            f"| | {metric} |\n|---|---|\n| challenger v{logged.version} | "
            f"{decision.challenger_metric:.4f} |\n| champion {version or '-'} | "
            f"{before} |\n\n"
            f"MLflow run `{logged.run_id}`, model `{logged.model_uri}`"
        ),
        description="Promotion decision",
    )
    return decision


@task(name="move-aliases", cache_policy=NO_CACHE)
def move_aliases(config: RetrainConfig, logged: tracking.LoggedModel, decision: Decision) -> str:
    """Promoted: ``champion`` moves to the new version. Otherwise it becomes ``challenger``."""
    alias = tracking.CHAMPION if decision.promote else tracking.CHALLENGER
    tracking.set_alias(config.mlflow.registered_model, alias, logged.version)
    get_run_logger().info("%s v%s is now %s", config.mlflow.registered_model, logged.version, alias)
    return alias
