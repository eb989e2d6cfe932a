"""The training algorithm: fit on train, choose the threshold on validation, refit on both.

Pure: a config and a split in, a fitted Pipeline and what was learned about it out. The
retrain flow and the benchmark's plain script both call ``train``.
"""

from dataclasses import dataclass

import pandas as pd
from sklearn.pipeline import Pipeline

from retrainer.domain.config import RetrainConfig
from retrainer.domain.evaluation import classification_metrics
from retrainer.domain.features import Split, feature_columns, model_inputs, predict
from retrainer.domain.modeling import best_f1_threshold, build_pipeline, fit, fit_threads


@dataclass
class TrainedModel:
    """A fitted Pipeline, its threshold, and how it did on validation rows."""

    pipeline: Pipeline
    threshold: float
    validation_metrics: dict
    features: list[str]


def train(config: RetrainConfig, split: Split) -> TrainedModel:
    """Fit on train, pick the F1-best threshold on validation, refit on train + validation."""
    numeric, categorical = feature_columns(config)
    label, threads = config.target.name, fit_threads(config.model)

    def fitted(frame: pd.DataFrame) -> Pipeline:
        pipeline = build_pipeline(config.model, config.features, numeric, categorical)
        return fit(pipeline, model_inputs(config, frame), label, threads)

    y_validation, proba = predict(config, fitted(split.train), split.validation)
    threshold = best_f1_threshold(y_validation, proba)
    validation_metrics = classification_metrics(y_validation, proba, threshold)
    final = fitted(pd.concat([split.train, split.validation], ignore_index=True))
    return TrainedModel(final, threshold, validation_metrics, numeric + categorical)
