"""Candidate search: Optuna over model families, scored by cross-validation on training rows.

Every trial is scored on out-of-fold predictions of the split's folds (an expanding window
by month for a time split), never on test rows. The first trial of each family is its
defaults (with ``model.params`` over them), so the search can only improve on them. The
result is plain data, one record per trial, that the tracking boundary logs as nested
MLflow runs.
"""

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from retrainer.domain.config import ModelConfig, RetrainConfig
from retrainer.domain.features import Split, feature_columns, model_inputs, predict
from retrainer.domain.metrics import greater_is_better, metric_value
from retrainer.domain.modeling import FAMILIES, best_f1_threshold, build_pipeline, fit


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


def _align(proba: np.ndarray, seen: list, classes: list) -> np.ndarray:
    """Probabilities in the order of ``classes`` (zero for a class a fold never saw)."""
    out = np.zeros((len(proba), len(classes)))
    out[:, [classes.index(c) for c in seen]] = proba
    return out


def cross_validate(
    config: RetrainConfig, model: ModelConfig, split: Split, threads: int
) -> CrossValidation:
    """Fit ``model`` on each fold's fit rows, predict its validation rows, pool the answers."""
    kind, label, metric = config.target.kind, config.target.name, config.promotion.metric
    numeric, categorical = feature_columns(config)
    inputs = model_inputs(config, split.train)
    classes = sorted(split.train[label].unique().tolist()) if kind == "multiclass" else []
    ys, predictions, scores, seconds = [], [], [], 0.0
    for fit_rows, validation_rows in split.folds:
        pipeline = build_pipeline(model, config.features, numeric, categorical, kind)
        started = time.perf_counter()
        fit(pipeline, inputs.iloc[fit_rows], label, threads)
        seconds += time.perf_counter() - started
        y, predicted = predict(config, pipeline, split.train.iloc[validation_rows])
        if kind == "multiclass":
            predicted = _align(predicted, list(pipeline.classes_), classes)
        ys.append(y)
        predictions.append(predicted)
        scores.append(metric_value(metric, kind, y, predicted, None, classes))
    y, predicted = np.concatenate(ys), np.concatenate(predictions)
    return CrossValidation(y, predicted, scores, seconds, classes)


def _candidate(config: RetrainConfig, family: str, trial) -> dict:
    """Parameters for one trial: defaults first, then the family's search space.

    ``model.params`` stay fixed for the configured family, whatever the search proposes.
    """
    fixed = dict(config.model.params) if family == config.model.family else {}
    if trial.number == 0:
        return fixed
    return {**FAMILIES[family].space(trial, config.target.kind), **fixed}


def search(config: RetrainConfig, split: Split, threads: int) -> Search:
    """Try the configured candidates within the budget; the best by pooled CV score wins.

    Without ``tuning.families``, the one candidate is ``model.family`` with ``model.params``.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    kind, metric = config.target.kind, config.promotion.metric
    families = config.tuning.families or [config.model.family]
    per_family = config.tuning.trials if config.tuning.families else 1
    deadline = time.monotonic() + config.tuning.timeout_seconds
    higher = greater_is_better(metric)
    trials: list[Trial] = []
    best: tuple[Trial, CrossValidation] | None = None
    for position, family in enumerate(families):

        def objective(trial, family=family) -> float:
            nonlocal best
            params = _candidate(config, family, trial)
            model = config.model.model_copy(update={"family": family, "params": params})
            cv = cross_validate(config, model, split, threads)
            score = metric_value(metric, kind, cv.y, cv.predicted, cv.threshold(kind), cv.classes)
            done = Trial(family, len(trials), params, score, cv.fold_scores, cv.fit_seconds)
            trials.append(done)
            if best is None or (score > best[0].score if higher else score < best[0].score):
                best = (done, cv)
            return score

        share = max(deadline - time.monotonic(), 0.0) / (len(families) - position)
        sampler = optuna.samplers.TPESampler(seed=config.model.seed)
        study = optuna.create_study(direction="maximize" if higher else "minimize", sampler=sampler)
        study.optimize(objective, n_trials=per_family, timeout=max(share, 1e-3))
    if best is None:  # every study runs its first trial whatever the budget: not reached
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
