"""The gate on real retrains: nothing twice, like with like, overlap, an unloadable champion."""

import shutil
from pathlib import Path
from urllib.parse import urlparse

import mlflow
import pytest
from mlflow import MlflowClient

from flows.retrain import retrain
from retrainer.boundaries import tracking
from retrainer.boundaries.champion import ChampionUnavailable
from retrainer.domain.config import RetrainConfig

pytestmark = pytest.mark.flow
MODEL = "flights-delay"


def top_level_runs():
    """Training runs, without the nested runs of a candidate search."""
    runs = mlflow.search_runs(search_all_experiments=True)
    if "tags.mlflow.parentRunId" not in runs:
        return runs
    return runs[runs["tags.mlflow.parentRunId"].isna()]


def test_unchanged_data_registers_nothing_unless_forced(
    flights_config: RetrainConfig, landed: Path
):
    retrain(flights_config)
    again = retrain(flights_config)

    assert again.decision == "no change" and (again.version, again.alias) == ("1", "champion")
    assert again.reason.startswith("training data") and "are those of v1" in again.reason
    client = MlflowClient()
    assert len(client.search_model_versions(f"name = '{MODEL}'")) == 1
    assert len(top_level_runs()) == 1

    forced = retrain(flights_config, force=True)

    # The same data, config and seed: the same model, which is no improvement at all.
    assert (forced.version, forced.decision, forced.alias) == ("2", "rejected", "challenger")
    significance = forced.promotion["comparison"]["significance"]
    assert significance["gain"] == 0.0 and significance["p_value"] == 1.0
    assert "not significant (p 1.0000 >= 0.05)" in forced.reason


def test_a_champion_that_saw_the_test_months_or_lost_its_files_is_not_compared(
    flights_config: RetrainConfig, landed: Path
):
    retrain(flights_config)  # v1: trained on January-March (March validates), tested on April
    wider = flights_config.model_copy(deep=True)
    wider.split.test_months = 2  # tests on March and April
    wider.promotion.min_value = 0.0

    refused = retrain(wider)

    assert refused.decision == "not compared" and refused.alias == "challenger"
    assert "champion v1 was trained on 2013-03, months this run tests on" in refused.reason
    assert "on_overlap" in refused.reason

    wider.promotion.on_overlap = "compare_on_unseen_rows"
    unseen = retrain(wider)  # the same training, but "not compared" left the question open

    comparison = unseen.promotion["comparison"]
    assert unseen.version == "3" and comparison["rows_left_out"] > 0
    assert comparison["note"].endswith("test rows of 2013-03 left out: the champion saw them")
    tested = unseen.metrics["n_rows"] - comparison["rows_left_out"]
    assert comparison["significance"]["rows"] == tested

    champion = tracking.alias_version(MODEL, tracking.CHAMPION)
    files = tracking.model_version(MODEL, champion).source
    shutil.rmtree(urlparse(files).path)
    changed = flights_config.model_copy(deep=True)
    changed.model.params = {"max_iter": 50}

    state = retrain(changed, return_state=True)

    assert state.is_failed()
    with pytest.raises(ChampionUnavailable) as raised:
        state.result()
    assert f"champion v{champion} of {MODEL} cannot be loaded from {files}" in str(raised.value)
    versions = MlflowClient().search_model_versions(f"name = '{MODEL}'")
    newest = max(versions, key=lambda v: int(v.version))
    assert newest.tags["promotion.decision"] == "not compared"
    assert "nothing was promoted" in newest.tags["promotion.reason"]
    assert tracking.alias_version(MODEL, tracking.CHAMPION) == champion
    assert newest.aliases == []
