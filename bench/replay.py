"""`make replay`: 2013 month by month under three retrain policies, on the same data.

January to March land and train the first champion (train January, validate February, test
March). Then, for April to December: the month lands and is ingested (Great Expectations
gates, the lake), each policy's champion scores it into its own predictions zone, the labels
arrive, the month is monitored against that champion's reference, and the policy decides:

- ``never``: the first champion serves all year;
- ``monthly``: a retrain after every month;
- ``on-alarm``: a retrain when monitoring raised an alarm, none within the cooldown after
  an alarm-started one (the rule the live automation applies).

Every retrain goes through the promotion gate: the challenger must beat its champion on the
month just monitored. Each step calls the library functions the flows' tasks call (ingest,
scoring table, scoring, the predictions zone, the monitoring report, training table, split,
training, the gate's decision). What it leaves out: Prefect (one process, no server), MLflow
(models stay in memory), the training table's expectation suite and the plots and
permutation importance of a full retrain. Two policies that retrain on the same month train
on the same rows with the same seed, so that model is trained once and its training time
charged to both.
"""

import argparse
import os
import shutil
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from bench.replay_report import Outcome, PolicyRun, publish
from retrainer.boundaries import demo
from retrainer.boundaries.ingest import Rules, ingest_source
from retrainer.boundaries.lake import Lake
from retrainer.boundaries.predictions import PredictionStore
from retrainer.boundaries.privacy import pseudonym_key
from retrainer.boundaries.settings import Home, config_path, expectations_dir
from retrainer.domain.comparison import Scores, compare, gate_predictions
from retrainer.domain.config import RetrainConfig, TuningConfig, load_config
from retrainer.domain.evaluation import classification_metrics
from retrainer.domain.features import build_training_table, model_inputs, predict
from retrainer.domain.monitoring import (
    MonitoringReport,
    Reference,
    Scope,
    monitor_period,
    reference_for,
    scored_records,
)
from retrainer.domain.policy import RetrainPolicy, retrain_due
from retrainer.domain.promotion import ChampionEvidence, decide
from retrainer.domain.row_checks import model_columns
from retrainer.domain.scoring import PERIOD, ModelInService, score_records, scoring_table, to_score
from retrainer.domain.significance import gate_metric
from retrainer.domain.splits import split_rows
from retrainer.domain.training import train

FIRST_MONTHS = (1, 2, 3)


@dataclass
class Champion:
    """A policy's model in service and its fitted pipeline."""

    model: ModelInService
    pipeline: object


@dataclass
class Trained:
    """A model trained at the end of one month: what the gate needs, and what it cost."""

    champion: Champion
    test: pd.DataFrame
    seconds: float


@dataclass
class Policy:
    """One policy's state through the year."""

    name: RetrainPolicy
    champion: Champion
    store: PredictionStore
    versions: int = 1
    last_alarm_retrain: int | None = None
    months: list[Outcome] = field(default_factory=list)


def ingest_month(h: Home, config: RetrainConfig, month: int, every: int) -> None:
    """Land one demo month and ingest every source, as the ingest task does."""
    demo.land_month(h.landing, month, every)
    for source in config.sources:
        rules = Rules(
            source=source,
            suite=expectations_dir() / source.suite,
            gx_root=h.gx,
            model_columns=tuple(model_columns(config, source.name)),
            pseudonym_key=pseudonym_key(h) if source.personal_columns else None,
        )
        landed = ingest_source(Lake(h.lake), rules, h.landing)
        if landed.errors:
            raise SystemExit(f"month {month}: {source.name} rejected:\n" + "\n".join(landed.errors))


def train_at(config: RetrainConfig, frames: dict, version: str) -> Trained:
    """Retrain on everything landed: the retrain flow's table, split and training function."""
    table = build_training_table(frames, config)
    split = split_rows(table.frame, config)
    started = time.perf_counter()
    trained = train(config, split)
    seconds = time.perf_counter() - started
    y_true, proba = predict(config, trained.pipeline, split.test)
    model = ModelInService(
        model=config.mlflow.registered_model,
        version=version,
        threshold=trained.threshold,
        trained_on=split.periods["train"],  # the folds' months are training months too
        test_months=split.periods["test"],
        test_metrics=classification_metrics(y_true, proba, trained.threshold),
    )
    return Trained(Champion(model, trained.pipeline), split.test, seconds)


def gate(config: RetrainConfig, policy: Policy, trained: Trained) -> str:
    """The promotion decision on the month just monitored; the champion moves if it passes."""
    champion = policy.champion
    # The retrain flow's gate: both models on the same test rows, the paired test, slices.
    rows = model_inputs(config, trained.test)
    label, kind = config.target.name, config.target.kind
    inputs = rows.drop(columns=[label])
    comparison = compare(
        champion.model.version,
        rows[label].to_numpy(),
        Scores(gate_predictions(kind, champion.pipeline, inputs), champion.model.threshold),
        Scores(
            gate_predictions(kind, trained.champion.pipeline, inputs),
            trained.champion.model.threshold,
        ),
        trained.test[config.promotion.slices].reset_index(drop=True),
        gate_metric(config.promotion.metric, kind),
        config.promotion,
        config.model.seed,
    )
    evidence = ChampionEvidence(champion.model.version, comparison)
    decision = decide(comparison.challenger_value, evidence, config.promotion)
    policy.versions += 1
    if decision.promote:
        model = trained.champion.model
        version = str(policy.versions)  # every retrain registers a version, as in MLflow
        policy.champion = Champion(replace(model, version=version), trained.champion.pipeline)
    return decision.decision


@dataclass
class Monitor:
    """Monitoring of the replay's month: policies serving the same model share its work."""

    config: RetrainConfig
    # Keyed by the fitted pipeline itself (identity): a key keeps its model alive, so it can
    # never be mistaken for a later one.
    references: dict[object, Reference] = field(default_factory=dict)
    reports: dict[tuple[object, str, str], MonitoringReport] = field(default_factory=dict)

    def month(self, policy: Policy, table: pd.DataFrame, period: str) -> MonitoringReport:
        """Score the month with the policy's champion, let labels arrive, monitor it."""
        config, champion = self.config, policy.champion
        keys = config.source(config.base).key
        month = table[table[PERIOD] == period]
        fresh = to_score(month, policy.store.read(columns=keys), keys, champion.model)
        batch = score_records(config, champion.model, champion.pipeline, fresh, datetime.now(UTC))
        policy.store.write(batch, keys, f"replay-{policy.name}")
        pipeline = champion.pipeline
        key = (pipeline, champion.model.version, period)
        if key not in self.reports:
            # A model's reference rows (its training and test months) never change.
            if pipeline not in self.references:
                self.references[pipeline] = reference_for(config, champion.model, table, pipeline)
            scope = Scope(period, champion.model.version, len(batch.rows))
            current = scored_records(config, scope, policy.store.read(), table)
            self.reports[key] = monitor_period(
                config, period, champion.model, self.references[pipeline], current
            )
        return self.reports[key]


def replay(h: Home, config: RetrainConfig, every: int, cooldown: int) -> list[PolicyRun]:
    """The year under every policy; what each month scored and what each retrain cost."""
    for month in FIRST_MONTHS:
        ingest_month(h, config, month, every)
    frames = Lake(h.lake).read_sources([s.name for s in config.sources])
    first = train_at(config, frames, "1")
    runs = {
        name: PolicyRun(name, training_seconds=first.seconds, retrains=0) for name in RetrainPolicy
    }
    policies = [
        Policy(name, first.champion, PredictionStore(h, f"{config.name}-{name}"))
        for name in RetrainPolicy
    ]
    monitor = Monitor(config)
    for index, month in enumerate(m for m in demo.MONTHS if m not in FIRST_MONTHS):
        ingest_month(h, config, month, every)
        frames = Lake(h.lake).read_sources([s.name for s in config.sources])
        table = scoring_table(frames, config)
        period = f"{demo.YEAR}-{month:02d}"
        trained_now: Trained | None = None
        for policy in policies:
            report = monitor.month(policy, table, period)
            reason = retrain_due(
                policy.name, report.alarms, index, policy.last_alarm_retrain, cooldown
            )
            decision = None
            if reason:
                trained_now = trained_now or train_at(config, frames, "new")
                runs[policy.name].training_seconds += trained_now.seconds
                runs[policy.name].retrains += 1
                decision = gate(config, policy, trained_now)
                if reason.startswith("alarm"):
                    policy.last_alarm_retrain = index
            runs[policy.name].months.append(Outcome.of(report, reason, decision))
            print(runs[policy.name].months[-1].line(policy.name), flush=True)
    return list(runs.values())


def replay_config() -> RetrainConfig:
    """The demo config as the replay uses it."""
    config = load_config(config_path("flights"))
    config.split.test_months = 1  # the gate tests a challenger on the month just monitored
    config.split.validation_months = 1
    # Up to 36 retrains: the configured model with one fold each, not the candidate search
    # (minutes per retrain on the full year); the policies are what is compared.
    config.tuning = TuningConfig()
    return config


def main() -> None:
    """Run the replay in a private home and publish the table and the plot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=1, help="keep every n-th flight")
    parser.add_argument("--cooldown", type=int, default=1, help="months without alarm retrains")
    parser.add_argument("--docs", type=Path, help="also write the table and plot here")
    args = parser.parse_args()
    root = Path(os.environ.get("RETRAINER_HOME", ".retrainer")).resolve() / "replay"
    shutil.rmtree(root, ignore_errors=True)
    h = Home(root)
    config = replay_config()
    started = time.perf_counter()
    runs = replay(h, config, args.every, args.cooldown)
    minutes = (time.perf_counter() - started) / 60
    print(publish(h, runs, args.every, args.cooldown, minutes, args.docs))


if __name__ == "__main__":
    main()
