"""What a retrain records about itself: the MLflow run's contents and where the model went.

Plain data built from the run's results; ``boundaries.tracking`` writes it to MLflow.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from retrainer.domain.config import RetrainConfig
from retrainer.domain.evaluation import Evaluation
from retrainer.domain.features import Split, TrainingTable, content_hash, model_inputs
from retrainer.domain.fingerprint import CONFIG_TAG, DATA_TAG, training_config_hash
from retrainer.domain.training import TrainedModel
from retrainer.domain.tuning import plot_tuning, tuning_table


@dataclass(frozen=True)
class LoggedModel:
    """Where a trained model went in MLflow."""

    run_id: str
    experiment_id: str
    model: str
    version: str
    run_name: str = ""

    @property
    def model_uri(self) -> str:
        """``models:/<name>/<version>``."""
        return f"models:/{self.model}/{self.version}"


@dataclass
class TrialRecord:
    """One candidate of the search, as a nested MLflow run under the training run."""

    run_name: str
    params: dict[str, Any]
    metrics: dict[str, float]


@dataclass
class TrainingRecord:
    """Everything one MLflow training run holds, apart from the model itself."""

    run_name: str
    params: dict[str, Any]
    metrics: dict[str, float]
    tags: dict[str, str]
    documents: dict[str, Any]
    figures: dict[str, Any] = field(default_factory=dict)
    input_example: pd.DataFrame | None = None
    schema: pd.DataFrame | None = None
    data_digest: str = ""
    started_at: datetime | None = None
    trials: list[TrialRecord] = field(default_factory=list)


def run_params(config: RetrainConfig, trained: TrainedModel, split: Split) -> dict[str, Any]:
    """The run's parameters as MLflow shows them: flat, one value each."""
    params = {
        "model_family": trained.family or config.model.family,
        **{f"model.{k}": v for k, v in trained.params.items()},
        "features": ",".join(trained.features),
        "target_kind": config.target.kind,
        "split_kind": config.split.kind,
        "prediction_horizon_hours": config.features.prediction_horizon_hours,
        "train_months": ",".join(split.periods["train"]),
        "validation_months": ",".join(split.periods["validation"]),
        "test_months": ",".join(split.periods["test"]),
        "train_rows": len(split.train),
        "test_rows": len(split.test),
        "cv_folds": len(split.folds),
        "tuning_families": ",".join(config.tuning.families) or "off",
    }
    if trained.threshold is not None:
        params["threshold"] = round(trained.threshold, 6)
    return params


def trial_records(trained: TrainedModel) -> list[TrialRecord]:
    """Every trial of the candidate search, for nested MLflow runs; none without a search
    (one candidate: the training run itself already carries its cross-validation)."""
    metric = trained.search.metric
    if len(trained.search.trials) < 2:
        return []
    return [
        TrialRecord(
            run_name=f"trial-{t.number}-{t.family}",
            params={"family": t.family, **t.params},
            metrics={
                f"cv_{metric}": t.score,
                f"cv_{metric}_std": t.spread,
                "fit_seconds": t.fit_seconds,
                **{f"cv_{metric}_fold_{i}": s for i, s in enumerate(t.fold_scores)},
            },
        )
        for t in trained.search.trials
    ]


def training_record(
    config: RetrainConfig,
    table: TrainingTable,
    split: Split,
    trained: TrainedModel,
    evaluation: Evaluation,
    data_reports: dict[str, Any],
    run_name: str,
    flow_run_id: str,
    overrides: dict[str, Any] | None = None,
    started_at: datetime | None = None,
) -> TrainingRecord:
    """The MLflow run of one retrain: params, metrics, tags, documents, plots, lineage.

    ``overrides``: the config fields this run changed relative to its config file, by dotted
    path; each becomes an ``override.<path>`` tag, so runs can be told apart and searched.
    """
    digest = content_hash(table.frame)
    return TrainingRecord(
        run_name=run_name,
        params=run_params(config, trained, split),
        metrics={
            **{f"test_{k}": v for k, v in evaluation.metrics.items()},
            **{f"validation_{k}": v for k, v in trained.validation_metrics.items()},
            **{f"cv_{k}": v for k, v in trained.cv.items() if isinstance(v, float)},
            "fit_seconds": trained.fit_seconds,
            **{f"build_seconds_{k}": v for k, v in table.build_seconds.items()},
        },
        tags={
            "dataset": config.name,
            DATA_TAG: digest,
            CONFIG_TAG: training_config_hash(config),
            "prefect_flow_run_id": flow_run_id,
            # What the UI's Source column shows (else the Prefect engine module that ran it).
            "mlflow.source.name": "flows/retrain.py",
            "mlflow.source.type": "JOB",
            **{f"override.{path}": str(value) for path, value in (overrides or {}).items()},
        },
        documents={
            **{f"data/{name}.json": report for name, report in data_reports.items()},
            "config.json": config.model_dump(mode="json"),
            "explain/permutation_importance.json": evaluation.importance,
            "evaluation/slices.json": evaluation.slices,
            "evaluation/cross_validation.json": trained.cv,
            "tuning/trials.json": tuning_table(trained.search).to_dict(orient="records"),
        },
        figures={
            **evaluation.figures,
            "learning_time_vs_score.png": plot_tuning(trained.search),
        },
        input_example=model_inputs(config, split.test.head(5)).drop(columns=[config.target.name]),
        schema=table.frame.head(0),
        data_digest=digest,
        started_at=started_at,
        trials=trial_records(trained),
    )
