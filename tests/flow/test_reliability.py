"""The retrain flow after faults, on copies of one trained home (a backup restored elsewhere):
what a killed run left, a bad file beside good ones, a damaged champion, a blocking source,
and the erasure of a data subject from every zone."""

import os
import shutil
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from flows.retrain import retrain
from retrainer.boundaries import demo
from retrainer.boundaries.champion import ChampionUnavailable
from retrainer.boundaries.erasure import forget
from retrainer.boundaries.ingest import Rules, ingest_source
from retrainer.boundaries.lake import Lake
from retrainer.boundaries.privacy import pseudonym_key
from retrainer.boundaries.settings import Home, expectations_dir
from retrainer.domain.config import RetrainConfig
from retrainer.domain.deliveries import outstanding_rejections
from retrainer.domain.privacy import pseudonym
from tasks.ingest import RejectedDeliveryError
from tests.conftest import sampled_demo_config
from tests.faults import dead_process_tags
from tests.flow.conftest import SAMPLE_EVERY, SAMPLE_MONTHS

pytestmark = pytest.mark.flow
MODEL = "flights-delay"


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A home with four sampled months ingested and champion v1: the backup to restore."""
    root = tmp_path_factory.mktemp("trained") / "home"
    for month in SAMPLE_MONTHS:
        demo.land_month(root / "landing", month, every=SAMPLE_EVERY)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RETRAINER_HOME", str(root))
        env.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
        mlflow.set_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")
        assert retrain(sampled_demo_config()).alias == "champion"
    return root


@pytest.fixture
def restored(trained: Path, home: Path) -> Home:
    """The trained home copied to this test's home (the environment points there)."""
    shutil.copytree(trained, home, dirs_exist_ok=True)
    return Home(home)


def land_month_five_with_an_empty_flights_file(h: Home) -> None:
    demo.land_month(h.landing, 5, every=SAMPLE_EVERY)
    (h.landing / "flights" / "flights_2013_05.csv").write_bytes(b"")


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_a_restored_home_closes_what_a_killed_run_left_and_lands_good_data_beside_a_bad_file(
    trained: Path, restored: Home, flights_config: RetrainConfig
):
    client = MlflowClient()
    experiment = client.get_experiment_by_name(MODEL).experiment_id
    killed = client.create_run(experiment, tags=dead_process_tags())  # left RUNNING by SIGKILL
    orphan = client.create_model_version(MODEL, restored.root.as_uri(), run_id=killed.info.run_id)
    leftover = restored.lake / "validated/flights/year=2013/month=01/.part-0.parquet.4242.tmp"
    leftover.write_bytes(b"")
    land_month_five_with_an_empty_flights_file(restored)
    champion = client.get_model_version_by_alias(MODEL, "champion")
    (model_file,) = (restored.mlartifacts / MODEL / "models").glob("*/artifacts/model.skops")
    model_file.write_bytes(b"damaged")  # the champion's artifact no longer loads
    trained_files = files_under(trained)

    state = retrain(flights_config, return_state=True)

    assert client.get_run(killed.info.run_id).info.status == "FAILED"
    closed = client.get_model_version(MODEL, orphan.version).tags
    assert closed["promotion.decision"] == "failed"
    assert not leftover.exists()
    # the empty file is rejected once, reported, and the weather of May still landed
    lake = Lake(restored.lake)
    (rejected,) = outstanding_rejections(lake.records("flights"))
    assert rejected.name == "flights_2013_05.csv" and "empty" in rejected.reason
    assert any("month=05" in p for r in lake.records("weather") for p in r.validated)
    # a damaged champion stops the decision: the run fails saying so, promotes nothing,
    # the new version records "not compared" and the champion stays
    assert state.is_failed()
    with pytest.raises(ChampionUnavailable, match=f"champion v{champion.version} .*damaged"):
        state.result()
    newest = max(client.search_model_versions(f"name = '{MODEL}'"), key=lambda v: int(v.version))
    assert newest.tags["promotion.decision"] == "not compared"
    assert "nothing was promoted" in newest.tags["promotion.reason"]
    assert client.get_model_version_by_alias(MODEL, "champion").version == champion.version
    for version in client.search_model_versions(f"name = '{MODEL}'"):
        assert "promotion.decision" in version.tags, version.version
    running = "attributes.status = 'RUNNING'"
    assert mlflow.search_runs(search_all_experiments=True, filter_string=running).empty
    # the copy wrote its own artifacts and left the original home alone
    run = client.get_run(newest.run_id)
    assert run.info.artifact_uri.startswith(restored.mlartifacts.as_uri())
    assert files_under(trained) == trained_files


def test_a_rejection_in_a_blocking_source_stops_every_run_before_training(
    restored: Home, flights_config: RetrainConfig
):
    land_month_five_with_an_empty_flights_file(restored)
    config = flights_config.model_copy(deep=True)
    config.source("flights").on_reject = "block"
    runs_before = len(mlflow.search_runs(search_all_experiments=True))

    for _ in range(2):
        state = retrain(config, return_state=True)
        assert state.is_failed()
        with pytest.raises(RejectedDeliveryError, match=r"flights_2013_05.csv.*empty"):
            state.result()

    lake = Lake(restored.lake)
    assert [r.name for r in lake.records("flights") if r.status == "rejected"] == [
        "flights_2013_05.csv"
    ]  # recorded once, reported by both runs
    assert any("month=05" in p for r in lake.records("weather") for p in r.validated)
    assert len(mlflow.search_runs(search_all_experiments=True)) == runs_before


def a_plane_in_both_sources(h: Home) -> str:
    flights = pd.concat(pd.read_csv(p) for p in (h.landing / "flights").glob("*.csv"))
    planes = demo._dataset("planes")["tailnum"]
    return flights["tailnum"][flights["tailnum"].isin(planes)].value_counts().index[0]


def test_forget_leaves_no_trace_of_the_subject_in_any_file_and_nothing_to_ingest_again(
    restored: Home, flights_config: RetrainConfig
):
    value = a_plane_in_both_sources(restored)
    key = pseudonym_key(restored)
    traces = (value.encode(), pseudonym(value, key).encode())
    lake = Lake(restored.lake)
    before = {s.name: len(lake.read_validated(s.name)) for s in flights_config.sources}
    assert any(t in p.read_bytes() for p in restored.root.rglob("*") if p.is_file() for t in traces)

    entry = forget(
        lake,
        restored.landing,
        restored.derived_reports,
        flights_config.sources,
        "tailnum",
        value,
        key,
    )

    found = [
        str(p.relative_to(restored.root))
        for p in restored.root.rglob("*")
        if p.is_file() and any(t in p.read_bytes() for t in traces)
    ]
    assert found == []
    assert entry["rows"]["flights"]["validated"] > 0 and entry["rows"]["planes"]["validated"] == 1
    assert value not in (restored.lake / "_erasures.json").read_text()
    after = {s.name: len(lake.read_validated(s.name)) for s in flights_config.sources}
    assert after["flights"] == before["flights"] - entry["rows"]["flights"]["validated"]
    # the rewritten landing files are the rewritten raw copies: nothing is ingested again
    for name in ("flights", "planes"):
        source = flights_config.source(name)
        rules = Rules(source, expectations_dir() / source.suite, restored.gx, (), key)
        assert ingest_source(lake, rules, restored.landing).results == []
    assert os.environ["RETRAINER_HOME"] == str(restored.root)
