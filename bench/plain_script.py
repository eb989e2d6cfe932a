"""The retrain flow's work in plain Python: no Prefect, no lake; the same library functions.

Reads every delivery in the landing zone with the flow's source readers, applies the same
schema mapping and row checks and validates each source once with its Great Expectations
suite (the flow validates each delivery), builds the same training table and validates it,
trains, evaluates, logs the run and model to MLflow (the home's SQLite database), scores the
champion like with like, explains both models, decides the promotion and moves the alias.
It is the yardstick for the flow's overhead, so it calls the flow's own functions rather than
a copy of them; its fold fits run as RETRAINER_PARALLEL says (``dask`` needs the flow's
tasks). Prints the test metrics and the seconds of each stage as JSON.

``python -m bench.plain_script LANDING CONFIG [--threads N]``; RETRAINER_HOME sets where
Great Expectations and MLflow keep their state.
"""

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402  (after the clock starts: imports are a stage of their own)
import json  # noqa: E402
import resource  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import asdict  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from retrainer.boundaries import aliases, parallel, tracking  # noqa: E402
from retrainer.boundaries.champion import score_champion  # noqa: E402
from retrainer.boundaries.ingest import Rules, screen  # noqa: E402
from retrainer.boundaries.privacy import pseudonym_key  # noqa: E402
from retrainer.boundaries.settings import (  # noqa: E402
    Home,
    configure_environment,
    expectations_dir,
)
from retrainer.boundaries.sources import deliveries  # noqa: E402
from retrainer.boundaries.validation import validate_table  # noqa: E402
from retrainer.domain.config import RetrainConfig, load_config  # noqa: E402
from retrainer.domain.evaluation import evaluate  # noqa: E402
from retrainer.domain.explain import explain_run  # noqa: E402
from retrainer.domain.features import build_training_table, content_hash  # noqa: E402
from retrainer.domain.fingerprint import (  # noqa: E402
    CONFIG_TAG,
    DATA_TAG,
    Fingerprint,
    training_config_hash,
)
from retrainer.domain.model_card import build_card  # noqa: E402
from retrainer.domain.modeling import fit_threads  # noqa: E402
from retrainer.domain.overrides import apply_overrides, parse_assignments  # noqa: E402
from retrainer.domain.promotion import decide, decision_tags  # noqa: E402
from retrainer.domain.records import training_record  # noqa: E402
from retrainer.domain.reports import card_markdown  # noqa: E402
from retrainer.domain.schema import ROW_ID, Prepared, apply_schema  # noqa: E402
from retrainer.domain.splits import split_rows  # noqa: E402
from retrainer.domain.training import train  # noqa: E402

IMPORTED = time.perf_counter()


class Stages:
    """Seconds spent in each named stage (a stage may be entered more than once), and how
    many MiB the process's peak RSS grew by in each: which stage sets the peak."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {"imports": IMPORTED - STARTED}
        self.peak_growth_mib: dict[str, float] = {"imports": _peak_mib()}

    @contextmanager
    def stage(self, name: str):
        """Time the block and add it to ``name``."""
        started, peak = time.perf_counter(), _peak_mib()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
            grown = self.peak_growth_mib.get(name, 0.0) + _peak_mib() - peak
            self.peak_growth_mib[name] = grown


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read_sources(
    landing: Path, config: RetrainConfig, h: Home, stages: Stages
) -> dict[str, pd.DataFrame]:
    """Every source's deliveries, typed, pseudonymised, checked (one GX validation per
    source), de-duplicated."""
    now = pd.Timestamp.now(tz="UTC")
    frames = {}
    for source in config.sources:
        with stages.stage("ingest"):
            suite = expectations_dir() / source.suite
            rules = Rules(source, suite, h.gx, pseudonym_key=pseudonym_key(h))
            # Typed delivery by delivery: raw text of all of them at once would set the peak.
            typed = [
                rules.protect(apply_schema(d.frame(), source)) for d in deliveries(source, landing)
            ]
            clean = pd.concat([p.clean for p in typed], ignore_index=True)
            clean[ROW_ID] = np.arange(len(clean))  # unique across deliveries: failures name rows
            quarantine = pd.concat([p.quarantine for p in typed], ignore_index=True)
            prepared = Prepared(clean, quarantine)
            del typed
        with stages.stage("gx_validation"):
            screened = screen(prepared, source, suite, f"plain-{source.name}", h.gx, now)
        with stages.stage("ingest"):
            accepted = screened.accepted.drop(columns=[ROW_ID])
            frames[source.name] = accepted.drop_duplicates(subset=source.key, keep="last")
    return frames


def main(landing: Path, config_file: Path, threads: int | None) -> None:
    """Do the flow's work once; print metrics, decision and stage seconds as JSON."""
    h = configure_environment()
    stages = Stages()
    config = load_config(config_file)
    if threads:
        config = apply_overrides(
            config.model_dump(mode="json"), parse_assignments([f"model.threads={threads}"])
        )
    frames = read_sources(landing, config, h, stages)
    with stages.stage("features"):
        table = build_training_table(frames, config)
    with stages.stage("gx_validation"):
        suite = expectations_dir() / config.training_suite
        validate_table(table.frame, suite, f"plain-training-{config.name}", h.gx)
    with stages.stage("features"):
        split = split_rows(table.frame, config)
    with stages.stage("fits"):
        # The flow's fold fits as the settings say (joblib by default): like with like.
        chosen = parallel.plan(fit_threads(config.model))
        with parallel.mapper(chosen) as fold_fits:
            trained = train(config, split, fold_fits, chosen.threads_per_fit)
    with stages.stage("evaluation"):
        evaluation = evaluate(config, trained.pipeline, trained.threshold, split)
    with stages.stage("mlflow"):
        model = config.mlflow.registered_model
        experiment = config.mlflow.experiment
        experiment_id = tracking.use_experiment(h.mlflow_uri, experiment, h.mlartifacts)
        record = training_record(config, table, split, trained, evaluation, {}, "plain", "")
        logged = tracking.log_training_run(experiment_id, model, trained.pipeline, record)
        fingerprint = {tag: record.tags[tag] for tag in (DATA_TAG, CONFIG_TAG)}
        tracking.set_tags(model, logged.version, None, fingerprint)
    with stages.stage("evaluation"):
        scored = score_champion(config, frames, split, trained.pipeline, trained.threshold)
        theirs = (scored.model, scored.inputs, scored.compared) if scored.model else None
        explanation = explain_run(config, split, trained.pipeline, theirs)
        hashes = Fingerprint(content_hash(table.frame), training_config_hash(config))
        version = (logged.version, logged.run_id)
        card = build_card(config, frames, split, trained, version, hashes, explanation)
        metric = config.promotion.metric
        decision = decide(evaluation.metrics[metric], scored.evidence, config.promotion)
    with stages.stage("mlflow"):
        documents = {"explain/importance.json": asdict(explanation.challenger)}
        card_text = {"model_card.md": card_markdown(card)}
        tracking.log_run_artifacts(logged.run_id, documents, card_text, explanation.figures)
        alias = tracking.CHAMPION if decision.promote else tracking.CHALLENGER
        with aliases.registry_lock(model):
            move = aliases.move_alias(
                model, alias, logged.version, action="retrain", reason=decision.reason, by="plain"
            )
            tracking.record_decision(
                model, logged.version, logged.run_id, decision.as_dict(), decision_tags(decision)
            )
            aliases.record_move(model, move)
    stages.seconds["total_in_process"] = time.perf_counter() - STARTED
    print(
        json.dumps(
            {
                **evaluation.metrics,
                "rows": len(table.frame),
                "decision": decision.decision,
                "data_hash": content_hash(table.frame)[:12],
                "stages": stages.seconds,
                "peak_growth_mib": stages.peak_growth_mib,
            }
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("landing", type=Path)
    parser.add_argument("config", type=Path)
    parser.add_argument("--threads", type=int, default=None, help="native threads for fits")
    args = parser.parse_args()
    main(args.landing, args.config, args.threads)
