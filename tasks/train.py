"""Training stage: fit the configured Pipeline and choose its decision threshold."""

from dataclasses import dataclass

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from sklearn.pipeline import Pipeline

from retrainer.config import RetrainConfig
from retrainer.evaluation import classification_metrics
from retrainer.features import Split, feature_columns
from retrainer.modeling import best_f1_threshold, build_pipeline, fit, fit_threads


@dataclass
class TrainedModel:
    """A fitted Pipeline, its threshold, and how it did on validation rows."""

    pipeline: Pipeline
    threshold: float
    validation_metrics: dict
    features: list[str]


def model_inputs(config: RetrainConfig, frame: pd.DataFrame) -> pd.DataFrame:
    """The feature columns a model sees, in order (plus the label when present)."""
    numeric, categorical = feature_columns(config)
    label = [config.target.name] if config.target.name in frame else []
    return frame[numeric + categorical + label]


@task(name="train-model", cache_policy=NO_CACHE)
def train_model(config: RetrainConfig, split: Split) -> TrainedModel:
    """Fit on train, pick the F1-best threshold on validation, refit on train + validation."""
    numeric, categorical = feature_columns(config)
    label, threads = config.target.name, fit_threads(config.model)
    logger = get_run_logger()
    first = fit(
        build_pipeline(config.model, config.features, numeric, categorical),
        model_inputs(config, split.train),
        label,
        threads,
    )
    validation = model_inputs(config, split.validation)
    proba = first.predict_proba(validation.drop(columns=[label]))[:, 1]
    threshold = best_f1_threshold(validation[label].to_numpy(), proba)
    validation_metrics = classification_metrics(validation[label].to_numpy(), proba, threshold)
    logger.info("validation roc_auc %.4f; threshold %.3f", validation_metrics["roc_auc"], threshold)
    final = fit(
        build_pipeline(config.model, config.features, numeric, categorical),
        model_inputs(config, pd.concat([split.train, split.validation], ignore_index=True)),
        label,
        threads,
    )
    return TrainedModel(final, threshold, validation_metrics, numeric + categorical)
