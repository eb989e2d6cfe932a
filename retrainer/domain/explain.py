"""What each model relies on: SHAP for tree models, permutation importance otherwise, and
how that changed between the champion and the challenger.

SHAP values are computed on the Pipeline's transformed inputs (what the trees split on) and
summed back to the configured features (a one-hot encoded carrier is one feature). Before
any value is shown, it is checked to add up to the model's own output on every row: a
model the explainer misreads falls back to permutation importance, with the reason.
"""

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from retrainer.domain.config import RetrainConfig
from retrainer.domain.evaluation import IMPORTANCE_SCORING, permutation_importance_table
from retrainer.domain.features import Split, model_inputs
from retrainer.domain.modeling import one_thread
from retrainer.domain.tree_shap import hist_gradient_boosting_shap

ADDITIVITY_TOLERANCE = 1e-6


class ExplainError(ValueError):
    """SHAP values that do not add up to the model's output: not shown."""


@dataclass(frozen=True)
class Importance:
    """How much one model relies on each feature, by one method, on ``rows`` test rows."""

    method: str
    rows: int
    features: dict[str, float]  # most important first

    def ranks(self) -> dict[str, int]:
        """1 for the most important feature."""
        return {name: rank for rank, name in enumerate(self.features, start=1)}


@dataclass(frozen=True)
class ImportanceChange:
    """One feature's importance in the champion and in the challenger."""

    feature: str
    champion: float | None
    challenger: float | None
    change: float | None
    champion_rank: int | None
    challenger_rank: int | None


@dataclass
class Explanation:
    """The challenger's (and champion's) importance, the change, plots, and any fallback."""

    challenger: Importance
    champion: Importance | None = None
    change: list[ImportanceChange] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    note: str = ""


def original_feature(name: str, features: list[str]) -> str:
    """The configured feature a transformed column comes from (``categorical__carrier_AA``)."""
    base = name.rsplit("__", 1)[-1]
    if base in features:
        return base
    prefixed = [f for f in features if base.startswith(f"{f}_")]
    if not prefixed:
        raise ExplainError(f"transformed column {name!r} matches no feature")
    return max(prefixed, key=len)


def shap_values(pipeline: Any, inputs: pd.DataFrame) -> pd.DataFrame | None:
    """Per-row SHAP values per feature of a fitted Pipeline, or None for a non-tree model.

    HistGradientBoosting: exact TreeSHAP with its categorical splits, in log-odds.
    RandomForest: shap's TreeExplainer, in probability. Raises ``ExplainError`` when the
    values do not add up to the model's output.
    """
    prepare, estimator = pipeline[:-1], pipeline[-1]
    kind = type(estimator).__name__
    if kind not in ("HistGradientBoostingClassifier", "RandomForestClassifier"):
        return None
    matrix = prepare.transform(inputs)
    matrix = np.asarray(matrix.toarray() if hasattr(matrix, "toarray") else matrix, dtype=float)
    if kind == "HistGradientBoostingClassifier":
        values, expected = hist_gradient_boosting_shap(estimator, matrix)
        output = estimator.decision_function(matrix)
    else:
        import shap

        explainer = shap.TreeExplainer(estimator)
        values = explainer.shap_values(matrix, check_additivity=False)[:, :, 1]
        expected = float(np.ravel(explainer.expected_value)[1])
        output = estimator.predict_proba(matrix)[:, 1]
    gap = float(np.max(np.abs(values.sum(axis=1) + expected - output), initial=0.0))
    if gap > ADDITIVITY_TOLERANCE:
        raise ExplainError(f"SHAP values miss the {kind}'s output by up to {gap:.3g}")
    columns = [original_feature(n, list(inputs.columns)) for n in prepare.get_feature_names_out()]
    return pd.DataFrame(values, columns=columns).T.groupby(level=0).sum().T[list(inputs.columns)]


def _ranked(values: dict[str, float]) -> dict[str, float]:
    return dict(sorted(values.items(), key=lambda item: item[1], reverse=True))


def shap_importance(values: pd.DataFrame, units: str) -> Importance:
    """Mean absolute SHAP value per feature."""
    mean_abs = values.abs().mean().astype(float).to_dict()
    return Importance(f"mean absolute SHAP ({units})", len(values), _ranked(mean_abs))


def permutation_importance(
    pipeline: Any,
    inputs: pd.DataFrame,
    y: np.ndarray,
    repeats: int,
    seed: int,
    scoring: str = "roc_auc",
) -> Importance:
    """Drop in ``scoring`` (a scikit-learn scorer name) when each feature is shuffled."""
    alone = {column: [column] for column in inputs.columns}
    table = permutation_importance_table(pipeline, inputs, y, alone, repeats, seed, scoring)
    drops = {row["feature"]: row["drop"] for row in table}
    method = f"permutation importance (drop in {scoring})"
    return Importance(method, len(inputs), _ranked(drops))


def importance_change(champion: Importance, challenger: Importance) -> list[ImportanceChange]:
    """Per feature of either model: both importances and the change, biggest change first."""
    ranks_before, ranks_after = champion.ranks(), challenger.ranks()
    rows = []
    for name in dict.fromkeys([*challenger.features, *champion.features]):
        before, after = champion.features.get(name), challenger.features.get(name)
        change = None if before is None or after is None else after - before
        rows.append(
            ImportanceChange(
                name, before, after, change, ranks_before.get(name), ranks_after.get(name)
            )
        )
    return sorted(rows, key=lambda r: -abs(r.change) if r.change is not None else np.inf)


def summary_plot(values: pd.DataFrame, inputs: pd.DataFrame, title: str):
    """shap's beeswarm summary: one dot per row and feature, coloured by numeric values."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import shap

    colours = inputs.apply(pd.to_numeric, errors="coerce").astype(float)
    with warnings.catch_warnings():
        # Text categories have no colour scale (grey dots); numpy warns about their NaNs.
        warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
        shap.summary_plot(
            values.to_numpy(), colours.to_numpy(), feature_names=list(values.columns), show=False
        )
    figure = plt.gcf()
    figure.axes[0].set_title(title)
    return figure


def explain_model(
    pipeline: Any,
    inputs: pd.DataFrame,
    y: np.ndarray,
    repeats: int,
    seed: int,
    scoring: str = "roc_auc",
) -> tuple[Importance, pd.DataFrame | None, str]:
    """SHAP importance for a tree model, else permutation importance; and why, if it fell back."""
    try:
        values = shap_values(pipeline, inputs)
    except ExplainError as exc:
        fallback = permutation_importance(pipeline, inputs, y, repeats, seed, scoring)
        return fallback, None, f"{exc}; permutation importance shown instead"
    if values is None:
        return permutation_importance(pipeline, inputs, y, repeats, seed, scoring), None, ""
    units = "log-odds" if type(pipeline[-1]).__name__.startswith("Hist") else "probability"
    return shap_importance(values, units), values, ""


def change_plot(change: list[ImportanceChange], method: str):
    """Champion and challenger importance side by side, for the features that moved most."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    top = change[:15][::-1]
    positions = np.arange(len(top))
    figure, ax = plt.subplots(figsize=(7, 0.35 * len(top) + 1.2))
    ax.barh(positions + 0.2, [r.champion or 0.0 for r in top], height=0.4, label="champion")
    ax.barh(positions - 0.2, [r.challenger or 0.0 for r in top], height=0.4, label="challenger")
    ax.set_yticks(positions, [r.feature for r in top])
    ax.set_xlabel(method)
    ax.legend(loc="lower right")
    figure.tight_layout()
    return figure


def explain(
    challenger: tuple[Any, pd.DataFrame],
    champion: tuple[Any, pd.DataFrame] | None,
    y: np.ndarray,
    repeats: int,
    seed: int,
    scoring: str = "roc_auc",
) -> Explanation:
    """Explain the challenger and, given (pipeline, its own inputs for the same rows), the
    champion; the change is measured with one method for both."""
    ours, values, note = explain_model(*challenger, y, repeats, seed, scoring)
    figures = {}
    if values is not None:
        figures["plots/shap_summary.png"] = summary_plot(values, challenger[1], ours.method)
    if champion is None:
        return Explanation(ours, figures=figures, note=note)
    best, _, their_note = explain_model(*champion, y, repeats, seed, scoring)
    notes = [n for n in (note, their_note and f"champion: {their_note}") if n]
    mine, theirs = ours, best
    if theirs.method != ours.method:
        mine = permutation_importance(*challenger, y, repeats, seed, scoring)
        theirs = permutation_importance(*champion, y, repeats, seed, scoring)
        notes.append(
            "the models are explained differently, so the change is measured by "
            "permutation importance for both"
        )
    change = importance_change(theirs, mine)
    figures["plots/importance_change.png"] = change_plot(change, mine.method)
    return Explanation(ours, best, change, figures, "; ".join(notes))


@one_thread
def explain_run(
    config: RetrainConfig,
    split: Split,
    pipeline: Any,
    champion: tuple[Any, pd.DataFrame, np.ndarray] | None = None,
) -> Explanation:
    """Explain the new model, and the champion (pipeline, its own inputs for the compared
    test rows, the mask of those rows), on the same sample of at most
    ``evaluation.shap_rows`` test rows."""
    compared = np.ones(len(split.test), dtype=bool) if champion is None else champion[2]
    test = split.test[compared].reset_index(drop=True)
    take = min(config.evaluation.shap_rows, len(test))
    if take == 0:
        return Explanation(Importance("not computed (evaluation.shap_rows is 0)", 0, {}))
    rows = np.sort(np.random.default_rng(config.model.seed).choice(len(test), take, replace=False))
    inputs = model_inputs(config, test.iloc[rows])
    y = inputs.pop(config.target.name).to_numpy()
    theirs = None
    if champion is not None:
        theirs = (champion[0], champion[1].reset_index(drop=True).iloc[rows])
    repeats = config.evaluation.importance_repeats
    scoring = IMPORTANCE_SCORING[config.target.kind]
    return explain((pipeline, inputs), theirs, y, repeats, config.model.seed, scoring)
