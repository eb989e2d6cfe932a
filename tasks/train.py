"""Training stage: search the candidates on the folds, refit the best, choose its threshold."""

from collections.abc import Callable

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from retrainer.boundaries import parallel
from retrainer.domain.config import RetrainConfig
from retrainer.domain.features import Split
from retrainer.domain.modeling import fit_threads
from retrainer.domain.training import TrainedModel, train
from retrainer.domain.tuning import FoldFit, FoldResult, tuning_table


@task(
    name="fit-fold",
    task_run_name="fit-fold-{job.model.family}-{job.trial}-{job.fold}",
    cache_policy=NO_CACHE,
    persist_result=False,  # the answer goes straight back to the training stage
)
def fit_fold(function: Callable, rows: parallel.StoredRows, job: FoldFit) -> FoldResult:
    """One candidate fitted on one fold, on the Dask worker that got it (RETRAINER_PARALLEL)."""
    get_run_logger().info(
        "%s trial %d, fold %d on %s", job.model.family, job.trial, job.fold, parallel.worker_name()
    )
    return function(parallel.read_rows(rows), job)


@task(name="train-model", cache_policy=NO_CACHE)
def train_model(config: RetrainConfig, split: Split) -> TrainedModel:
    """Cross-validate each candidate on the training folds; refit the best on all of train."""
    chosen = parallel.plan(fit_threads(config.model))
    with parallel.mapper(chosen, on_worker=fit_fold) as fold_fits:
        trained = train(config, split, fold_fits, chosen.threads_per_fit)
    cv, found = trained.cv, trained.search
    get_run_logger().info(
        "chose %s (%s) from %d trial(s): cv %s %.4f (mean %.4f +/- %.4f over %d folds); "
        "refit on %d rows in %.1f s; threshold %s; fold fits %s",
        trained.family,
        trained.params or "defaults",
        len(found.trials),
        cv["metric"],
        cv["pooled"],
        cv["mean"],
        cv["std"],
        len(cv["folds"]),
        len(split.train),
        trained.fit_seconds,
        "n/a" if trained.threshold is None else f"{trained.threshold:.3f}",
        parallel.describe(chosen),
    )
    create_table_artifact(
        key=f"candidates-{config.name}",
        table=tuning_table(found).to_dict(orient="records"),
        description=(
            f"Learning time versus cross-validated {found.metric}, one row per trial, best "
            f"first (folds: {', '.join(split.periods['validation'])}); "
            f"chosen: {trained.family}, refit in {trained.fit_seconds:.1f} s"
        ),
    )
    return trained
