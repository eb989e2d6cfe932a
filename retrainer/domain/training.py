"""The training algorithm: choose a candidate on the folds, then refit it on every training row.

Pure: a config and a split in, a fitted Pipeline and what was learned about it out. The
retrain flow and the benchmark's plain script both call ``train``.

The decision threshold (binary targets) is chosen on the chosen candidate's out-of-fold
predictions: the same family and parameters as the deployed model, each prediction made by
a model that never saw that row.

The fold fits of the search go through a ``Mapper`` (in turn here by default; in parallel
when the caller passes one); the refit uses every core ``fit_threads`` allows.
"""

import time
from dataclasses import dataclass

from sklearn.pipeline import Pipeline

from retrainer.domain.config import RetrainConfig
from retrainer.domain.features import Split, feature_columns, model_inputs
from retrainer.domain.metrics import task_metrics
from retrainer.domain.modeling import build_pipeline, fit, fit_threads
from retrainer.domain.tuning import Mapper, Search, in_order, search


@dataclass
class TrainedModel:
    """A fitted Pipeline, its threshold, and how its candidate did on the folds."""

    pipeline: Pipeline
    threshold: float | None
    validation_metrics: dict
    features: list[str]
    family: str
    params: dict
    search: Search
    fit_seconds: float

    @property
    def cv(self) -> dict:
        """The chosen candidate's CV score: pooled, mean and spread over folds, per fold."""
        best = self.search.best
        scores = [s for s in best.fold_scores if s == s]
        return {
            "metric": self.search.metric,
            "pooled": best.score,
            "mean": sum(scores) / len(scores) if scores else float("nan"),
            "std": best.spread,
            "folds": best.fold_scores,
        }


def train(
    config: RetrainConfig,
    split: Split,
    mapper: Mapper = in_order,
    fold_threads: int | None = None,
) -> TrainedModel:
    """Pick the best candidate by cross-validation, its threshold out of fold, refit on train.

    ``mapper`` runs the fold fits, each with ``fold_threads`` native threads (default: as
    many as the refit, which suits fits run one at a time).
    """
    numeric, categorical = feature_columns(config)
    kind, threads = config.target.kind, fit_threads(config.model)
    found = search(config, split, fold_threads or threads, mapper)
    threshold = found.cv.threshold(kind)
    validation_metrics = task_metrics(
        kind, found.cv.y, found.cv.predicted, threshold, found.cv.classes
    )
    chosen = config.model.model_copy(
        update={"family": found.best.family, "params": found.best.params}
    )
    pipeline = build_pipeline(chosen, config.features, numeric, categorical, kind)
    started = time.perf_counter()
    fit(pipeline, model_inputs(config, split.train), config.target.name, threads)
    return TrainedModel(
        pipeline=pipeline,
        threshold=threshold,
        validation_metrics=validation_metrics,
        features=numeric + categorical,
        family=found.best.family,
        params=found.best.params,
        search=found,
        fit_seconds=time.perf_counter() - started,
    )
