"""Candidate search: Optuna over model families, scored by cross-validation on training rows.

Every trial is scored on out-of-fold predictions of the split's folds (an expanding window
by month for a time split), never on test rows. The first trial of each family is its
defaults (with ``model.params`` over them), so the search can only improve on them. The
result is plain data, one record per trial, that the tracking boundary logs as nested
MLflow runs.

The fits are independent jobs (one candidate on one fold) handed to a ``Mapper``: the
default fits them one after another here; the parallel boundary runs them on joblib workers
or a Dask cluster. Jobs are pure and their answers come back in job order, so the search
finds the same trials, scores and winner whatever runs them.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from retrainer.domain.config import ModelConfig, RetrainConfig
from retrainer.domain.features import Split, feature_columns, model_inputs, predict
from retrainer.domain.metrics import greater_is_better, metric_value
from retrainer.domain.modeling import (
    FAMILIES,
    best_f1_threshold,
    build_pipeline,
    fit,
    native_threads,
)


@dataclass
class CrossValidation:
    """Out-of-fold predictions of one candidate, pooled over its folds, and per-fold scores."""

    y: np.ndarray
    predicted: np.ndarray
    fold_scores: list[float]
    fit_seconds: float
    classes: list = field(default_factory=list)

    def threshold(self, kind: str) -> float | None:
        """Binary: the F1-best decision threshold on these predictions; else None."""
        return best_f1_threshold(self.y, self.predicted) if kind == "binary" else None


@dataclass
class Trial:
    """One candidate tried: its family and parameters, its CV score and its training time."""

    family: str
    number: int
    params: dict
    score: float
    fold_scores: list[float]
    fit_seconds: float

    @property
    def spread(self) -> float:
        """Standard deviation of the per-fold scores (NaN with fewer than two)."""
        scores = [s for s in self.fold_scores if s == s]
        return float(np.std(scores, ddof=1)) if len(scores) > 1 else float("nan")

    def as_row(self, metric: str) -> dict:
        """One row of the learning-time-versus-score table."""
        return {
            "family": self.family,
            "trial": self.number,
            f"cv_{metric}": round(self.score, 4),
            "spread": round(self.spread, 4),
            "fit_seconds": round(self.fit_seconds, 2),
            "params": ", ".join(f"{k}={_short(v)}" for k, v in self.params.items()) or "defaults",
        }


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


@dataclass
class Search:
    """Every trial, and the best one with its out-of-fold predictions."""

    metric: str
    trials: list[Trial]
    best: Trial
    cv: CrossValidation


class Mapper(Protocol):
    """Runs ``function(rows, job)`` for every job, anywhere; returns the answers in job order.

    ``rows`` is the same for every job (the training rows): a mapper that runs jobs in other
    processes or on other machines ships it once, not with each job.
    """

    def __call__(
        self, function: Callable[[pd.DataFrame, Any], Any], rows: pd.DataFrame, jobs: Sequence
    ) -> list: ...


def in_order(function: Callable[[pd.DataFrame, Any], Any], rows: pd.DataFrame, jobs: Sequence):
    """The default mapper: each job in turn, in this process."""
    return [function(rows, job) for job in jobs]


@dataclass(frozen=True)
class FoldFit:
    """One candidate on one fold: everything its fit needs besides the training rows."""

    config: RetrainConfig
    model: ModelConfig
    trial: int  # the candidate's trial number within its family
    fold: int
    fit_rows: np.ndarray  # positions into the training rows
    validation_rows: np.ndarray
    classes: list  # multiclass: every class of the training rows, in order
    threads: int  # native threads for the fit


@dataclass
class FoldResult:
    """A fold's labels, out-of-fold predictions, score and fit seconds."""

    y: np.ndarray
    predicted: np.ndarray
    score: float
    fit_seconds: float


def _align(proba: np.ndarray, seen: list, classes: list) -> np.ndarray:
    """Probabilities in the order of ``classes`` (zero for a class a fold never saw)."""
    out = np.zeros((len(proba), len(classes)))
    out[:, [classes.index(c) for c in seen]] = proba
    return out


def fit_fold(rows: pd.DataFrame, job: FoldFit) -> FoldResult:
    """Fit the job's candidate on its fold's fit rows; predict and score its validation rows.

    ``rows`` are the model inputs of the training rows (``model_inputs``), label included.
    """
    config, kind = job.config, job.config.target.kind
    numeric, categorical = feature_columns(config)
    pipeline = build_pipeline(job.model, config.features, numeric, categorical, kind)
    started = time.perf_counter()
    fit(pipeline, rows.iloc[job.fit_rows], config.target.name, job.threads)
    seconds = time.perf_counter() - started
    # The prediction too: HistGradientBoosting opens a parallel region per tree, and fits
    # predicting side by side with every core each wait on each other (modeling.one_thread).
    with native_threads(job.threads):
        y, predicted = predict(config, pipeline, rows.iloc[job.validation_rows])
    if kind == "multiclass":
        predicted = _align(predicted, list(pipeline.classes_), job.classes)
    score = metric_value(config.promotion.metric, kind, y, predicted, None, job.classes)
    return FoldResult(y, predicted, score, seconds)


def pooled(folds: list[FoldResult], classes: list) -> CrossValidation:
    """One candidate's fold answers pooled: all out-of-fold predictions, per-fold scores."""
    y = np.concatenate([f.y for f in folds])
    predicted = np.concatenate([f.predicted for f in folds])
    seconds = sum(f.fit_seconds for f in folds)
    return CrossValidation(y, predicted, [f.score for f in folds], seconds, classes)


def _candidate(config: RetrainConfig, family: str, trial) -> dict:
    """Parameters for one trial: defaults first, then the family's search space.

    ``model.params`` stay fixed for the configured family, whatever the search proposes.
    """
    fixed = dict(config.model.params) if family == config.model.family else {}
    if trial.number == 0:
        return fixed
    return {**FAMILIES[family].space(trial, config.target.kind), **fixed}


def search(config: RetrainConfig, split: Split, threads: int, mapper: Mapper = in_order) -> Search:
    """Try the configured candidates within the budget; the best by pooled CV score wins.

    Without ``tuning.families``, the one candidate is ``model.family`` with ``model.params``.
    The families are searched side by side, in rounds: each round asks every family's study
    for its next trial and hands all their fold fits to ``mapper`` at once, so independent
    fits can run in parallel while each family's TPE sampler still sees its trials one after
    another. A round starts only while ``tuning.timeout_seconds`` lasts; the first always
    runs, so every family's defaults are tried. ``threads``: native threads per fit.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    kind, metric = config.target.kind, config.promotion.metric
    families = config.tuning.families or [config.model.family]
    per_family = config.tuning.trials if config.tuning.families else 1
    deadline = time.monotonic() + config.tuning.timeout_seconds
    higher = greater_is_better(metric)
    rows = model_inputs(config, split.train)
    classes = (
        sorted(split.train[config.target.name].unique().tolist()) if kind == "multiclass" else []
    )
    studies = {
        family: optuna.create_study(
            direction="maximize" if higher else "minimize",
            sampler=optuna.samplers.TPESampler(seed=config.model.seed),
        )
        for family in families
    }
    tried: dict[str, list[tuple[dict, float, CrossValidation]]] = {f: [] for f in families}
    for round_number in range(per_family):
        if round_number and time.monotonic() >= deadline:
            break
        asked = [(family, studies[family].ask()) for family in families]
        candidates = [(family, trial, _candidate(config, family, trial)) for family, trial in asked]
        jobs = [
            FoldFit(
                config,
                config.model.model_copy(update={"family": family, "params": params}),
                trial.number,
                fold,
                fit_rows,
                validation_rows,
                classes,
                threads,
            )
            for family, trial, params in candidates
            for fold, (fit_rows, validation_rows) in enumerate(split.folds)
        ]
        answers = iter(mapper(fit_fold, rows, jobs))
        for family, trial, params in candidates:
            cv = pooled([next(answers) for _ in split.folds], classes)
            score = metric_value(metric, kind, cv.y, cv.predicted, cv.threshold(kind), cv.classes)
            studies[family].tell(trial, score)
            tried[family].append((params, score, cv))
    trials: list[Trial] = []
    best: tuple[Trial, CrossValidation] | None = None
    for family in families:  # numbered family by family, as the table and the runs show them
        for params, score, cv in tried[family]:
            done = Trial(family, len(trials), params, score, cv.fold_scores, cv.fit_seconds)
            trials.append(done)
            if best is None or (score > best[0].score if higher else score < best[0].score):
                best = (done, cv)
    if best is None:  # every family runs its first round whatever the budget: not reached
        raise RuntimeError("no candidate was trained")
    return Search(metric, trials, best[0], best[1])


def tuning_table(found: Search) -> pd.DataFrame:
    """The learning-time-versus-score table, best first."""
    rows = [t.as_row(found.metric) for t in found.trials]
    ascending = not greater_is_better(found.metric)
    return pd.DataFrame(rows).sort_values(f"cv_{found.metric}", ascending=ascending)


def plot_tuning(found: Search):
    """Training time against cross-validated score, one colour per family."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for family in dict.fromkeys(t.family for t in found.trials):
        mine = [t for t in found.trials if t.family == family]
        ax.scatter([t.fit_seconds for t in mine], [t.score for t in mine], label=family)
    ax.scatter([found.best.fit_seconds], [found.best.score], marker="*", s=200, c="black")
    ax.set_xscale("log")
    ax.set_xlabel("training seconds (all folds of a trial)")
    ax.set_ylabel(f"cross-validated {found.metric}")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig
