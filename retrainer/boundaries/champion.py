"""The current champion: loaded from the MLflow registry and scored like with like.

The champion is scored through its own logged model *and its own feature definition*: the
config logged with its run is used to rebuild its inputs from this run's validated data,
aligned to this run's test rows by key. Only "there is no champion alias" means first model;
a champion that exists but cannot be loaded or scored raises ``ChampionUnavailable``.
"""

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from retrainer.boundaries import tracking
from retrainer.domain.comparison import (
    Scores,
    champion_inputs,
    compare,
    gate_predictions,
    same_inputs,
    trained_months_in,
)
from retrainer.domain.config import RetrainConfig
from retrainer.domain.features import Split, model_inputs
from retrainer.domain.fingerprint import (
    Fingerprint,
    PastTraining,
    Unchanged,
    already_judged,
    no_change_reason,
)
from retrainer.domain.modeling import one_thread
from retrainer.domain.promotion import ChampionEvidence
from retrainer.domain.significance import gate_metric

# What the operator can do when the champion is unusable.
REMEDY = (
    "nothing was promoted; repair its files, or move the champion by hand "
    "(`retrainer rollback --reason ...` or `retrainer promote VERSION --reason ...`)"
)


class ChampionUnavailable(RuntimeError):
    """The champion exists but cannot be loaded or scored: nothing may be promoted."""

    def __init__(self, version: str | None, message: str) -> None:
        super().__init__(message)
        self.version = version


@dataclass(frozen=True)
class LoadedChampion:
    """The champion's model and what it was trained with."""

    version: str
    run_id: str
    config: RetrainConfig
    model: Any
    threshold: float
    trained_months: list[str]  # train and validation: the final model is refitted on both


@dataclass(frozen=True)
class ScoredChampion:
    """The gate's evidence about the champion, plus its model and inputs for explanations."""

    evidence: ChampionEvidence
    model: Any = None
    inputs: pd.DataFrame | None = None  # its own inputs for the compared test rows
    compared: np.ndarray | None = None  # mask of the test rows in the comparison


def load_champion(registered_model: str) -> LoadedChampion | None:
    """The champion, or None when the model has no ``champion`` alias (yet)."""
    version = tracking.alias_version(registered_model, tracking.CHAMPION)
    if version is None:
        return None
    info = tracking.model_version(registered_model, version)
    if info is None:
        raise ChampionUnavailable(
            version, f"the champion alias points at v{version}, which is gone"
        )
    params = tracking.run_record(info.run_id).params
    try:
        config = RetrainConfig.model_validate(tracking.run_document(info.run_id, "config.json"))
    except Exception as exc:  # missing file, unreadable JSON, a config model that moved on
        raise ChampionUnavailable(
            version,
            f"champion v{version}: the config.json of its run {info.run_id} cannot be used "
            f"to rebuild its inputs ({type(exc).__name__}: {exc}); {REMEDY}",
        ) from exc
    try:
        model = tracking.load_model(registered_model, version)
    except Exception as exc:  # deleted or corrupt files fail in many ways, all mean the same
        raise ChampionUnavailable(
            version,
            f"champion v{version} of {registered_model} cannot be loaded from {info.source} "
            f"({type(exc).__name__}: {exc}); {REMEDY}",
        ) from exc
    months = [
        m
        for key in ("train_months", "validation_months")
        for m in params.get(key, "").split(",")
        if m
    ]
    threshold = float(params.get("threshold", 0.5))
    return LoadedChampion(version, info.run_id, config, model, threshold, months)


def _overlap(
    config: RetrainConfig, champion: LoadedChampion, test: pd.DataFrame
) -> tuple[ChampionEvidence | None, np.ndarray, str]:
    """Refuse, or keep only the rows the champion never saw, as ``promotion.on_overlap`` says."""
    time_column = config.source(config.base).time_column
    if config.split.kind != "time" or not time_column:
        # A random holdout has no months to check: the seed and the rows decide which rows
        # the champion saw. Known limit, stated in the README.
        return None, np.ones(len(test), dtype=bool), ""
    months, unseen = trained_months_in(
        champion.trained_months, test, time_column, champion.config.split.timezone
    )
    keep_all = np.ones(len(test), dtype=bool)
    if not months:
        return None, keep_all, ""
    v, policy = champion.version, config.promotion.on_overlap
    why = f"champion v{v} was trained on {', '.join(months)}, months this run tests on"
    if policy == "promote_anyway":
        return ChampionEvidence(v, not_compared=why, promote_anyway=True), keep_all, ""
    if policy == "refuse" or not unseen.any():
        hint = (
            "set promotion.on_overlap to compare_on_unseen_rows or promote_anyway to proceed"
            if policy == "refuse"
            else "no test row is left that it has not seen"
        )
        return ChampionEvidence(v, not_compared=f"{why}; {hint}"), keep_all, ""
    left = int((~unseen).sum())
    return None, unseen, f"{left} test rows of {', '.join(months)} left out: the champion saw them"


@one_thread
def score_champion(
    config: RetrainConfig,
    frames: dict[str, pd.DataFrame],
    split: Split,
    challenger: Any,
    challenger_threshold: float,
) -> ScoredChampion:
    """Compare the champion with the challenger on this run's test rows, each with its inputs."""
    champion = load_champion(config.mlflow.registered_model)
    if champion is None:
        return ScoredChampion(ChampionEvidence(None))
    refused, keep, note = _overlap(config, champion, split.test)
    if refused is not None:
        return ScoredChampion(refused)
    v, label, kind = champion.version, config.target.name, config.target.kind
    try:
        if same_inputs(champion.config, config):
            inputs = model_inputs(champion.config, split.test).drop(columns=[label])
            found = np.ones(len(split.test), dtype=bool)
        else:
            key = config.source(config.base).key
            inputs, found = champion_inputs(frames, champion.config, split.test, key)
        keep = keep & found
        theirs = gate_predictions(kind, champion.model, inputs[keep])
    except Exception as exc:  # whatever the model or the rebuild raises: the same verdict
        raise ChampionUnavailable(
            v,
            f"champion v{v} cannot score this run's test rows with its own features "
            f"({type(exc).__name__}: {exc}); {REMEDY}",
        ) from exc
    if not found.all():
        note = "; ".join(
            filter(None, [note, f"{int((~found).sum())} test rows it has no inputs for"])
        )
    rows = model_inputs(config, split.test[keep])
    ours = gate_predictions(kind, challenger, rows.drop(columns=[label]))
    comparison = compare(
        v,
        rows[label].to_numpy(),
        Scores(theirs, champion.threshold),
        Scores(ours, challenger_threshold),
        split.test.loc[keep, config.promotion.slices].reset_index(drop=True),
        gate_metric(config.promotion.metric, kind),
        config.promotion,
        config.model.seed,
    )
    comparison = replace(comparison, rows_left_out=int((~keep).sum()), note=note)
    return ScoredChampion(ChampionEvidence(v, comparison), champion.model, inputs[keep], keep)


def _past(info: tracking.VersionInfo) -> PastTraining:
    before = info.tags.get("promotion.champion_before")
    return PastTraining(
        version=info.version,
        run_id=info.run_id,
        decision=info.tags.get("promotion.decision"),
        champion_before=None if before in (None, "None") else before,
    )


def find_unchanged(registered_model: str, fingerprint: Fingerprint) -> Unchanged | None:
    """A version that already trained on this data with this config, judged against today's
    champion (or None: this training is new).

    Versions registered before training config hashes were tagged never match: the first
    retrain after the upgrade trains once more.
    """
    champion = tracking.alias_version(registered_model, tracking.CHAMPION)
    matches = [_past(v) for v in tracking.search_versions(registered_model, fingerprint.tags())]
    past = already_judged(matches, champion)
    if past is None:
        return None
    metrics = tracking.run_record(past.run_id).metrics
    return Unchanged(
        past=past,
        alias=tracking.CHAMPION if past.version == champion else "-",
        reason=no_change_reason(fingerprint, past, champion),
        metrics={k.removeprefix("test_"): v for k, v in metrics.items() if k.startswith("test_")},
    )
