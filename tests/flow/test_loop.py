"""The loop on sampled demo data: batch predictions written once, a new champion scoring only
what is new, monitoring with an alarm, and the champion served over HTTP like the batch."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import mlflow
import pytest
from mlflow import MlflowClient

from flows.monitor import monitor
from flows.predict import predict
from flows.retrain import retrain
from retrainer.boundaries import demo
from retrainer.boundaries.lake import Lake
from retrainer.boundaries.predictions import PredictionStore
from retrainer.boundaries.settings import Home
from retrainer.domain.config import RetrainConfig
from retrainer.domain.features import feature_columns
from retrainer.domain.scoring import PERIOD, VERSION, scoring_table
from retrainer.operations import processes
from tests.conftest import sampled_demo_config
from tests.flow.conftest import SAMPLE_EVERY, SAMPLE_MONTHS

pytestmark = pytest.mark.flow

MODEL = "flights-delay"


def demo_config() -> RetrainConfig:
    return sampled_demo_config()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with four sampled months landed and a champion trained on them (once)."""
    root = tmp_path_factory.mktemp("loop") / "home"
    for month in SAMPLE_MONTHS:
        demo.land_month(root / "landing", month, every=SAMPLE_EVERY)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RETRAINER_HOME", str(root))
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
        mlflow.set_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")
        assert retrain(demo_config()).alias == "champion"
    return root


@pytest.fixture
def home_with_champion(trained: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point this test at the trained home (the tier's fixtures give each test a fresh one)."""
    monkeypatch.setenv("RETRAINER_HOME", str(trained))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{trained / 'mlflow.db'}")
    mlflow.set_tracking_uri(f"sqlite:///{trained / 'mlflow.db'}")
    return trained


def test_predictions_are_written_once_and_a_new_champion_scores_only_new_records(
    home_with_champion: Path,
):
    config = demo_config()
    client = MlflowClient()
    champion = client.get_model_version_by_alias(MODEL, "champion")
    assert client.get_run(champion.run_id).data.tags["retrain.trigger"] == "manual"
    store = PredictionStore(Home(home_with_champion), config.name)

    first = predict(config)
    files = {p: p.read_bytes() for p in store.root.rglob("*") if p.is_file()}
    second = predict(config)

    assert first.version == "1" and first.periods == ["2013-04"] and first.rows > 900
    assert second.rows == 0 and second.file is None
    assert {p: p.read_bytes() for p in store.root.rglob("*") if p.is_file()} == files
    # Month 5 lands and a new champion takes over: it scores May only, not April again.
    demo.land_month(home_with_champion / "landing", 5, every=SAMPLE_EVERY)
    copy = client.create_model_version(MODEL, champion.source, run_id=champion.run_id)
    client.set_registered_model_alias(MODEL, "champion", copy.version)

    third = predict(config)

    assert third.version == "2" and third.periods == ["2013-05"]
    held = store.read()
    assert held.groupby(PERIOD)[VERSION].unique().map(list).to_dict() == {
        "2013-04": ["1"],
        "2013-05": ["2"],
    }
    keys = config.source(config.base).key
    assert not held.duplicated([*keys, VERSION]).any()
    assert len(held) == first.rows + third.rows

    # Monitoring May against v2's training months, with thresholds low enough to alarm.
    config.monitoring.drifted_share_alarm = 0.01
    report = monitor(config, "2013-05")

    assert report.version == "2" and report.rows == third.rows
    assert report.labelled > 0.9 * report.rows and report.realised is not None
    assert report.drifted and report.alarm_event_id
    assert any(a.startswith("data_drift") for a in report.alarms)
    run = client.get_run(report.mlflow_run_id)
    assert run.data.tags["period"] == "2013-05" and run.data.tags["model_version"] == "2"
    assert "psi.weather_temp" in run.data.metrics and "estimated_roc_auc" in run.data.metrics
    listed = {f.path for f in client.list_artifacts(report.mlflow_run_id, "monitoring")}
    assert listed == {"monitoring/report.json"}


def test_the_served_champion_answers_as_the_batch_does(home_with_champion: Path):
    config = demo_config()
    frames = Lake(Home(home_with_champion).lake).read_sources([s.name for s in config.sources])
    record = scoring_table(frames, config).iloc[[0]]
    numeric, categorical = feature_columns(config)
    inputs = record[numeric + categorical]
    champion = mlflow.sklearn.load_model(f"models:/{MODEL}@champion")
    expected = float(champion.predict_proba(inputs)[0, 1])
    port = processes.free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("retrainer")),
            *("serve-model", "--port", str(port), "--poll", "1"),
        ],
        env={**os.environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        # The supervisor says when its server answers (or why it could not start one).
        said = []
        for line in server.stdout:
            said.append(line)
            if line.startswith(("serving", "error")):
                break
        log = processes.tail(home_with_champion / "logs" / "model-server.log")
        assert said and said[-1].startswith(f"serving {MODEL} v"), "".join(said) + log
        body = {"dataframe_records": [inputs.iloc[0].where(inputs.iloc[0].notna(), None).to_dict()]}

        # Generous timeouts: the 2-core test machine may be busy with other test processes.
        answer = httpx.post(f"{url}/invocations", json=body, timeout=120)
        malformed = httpx.post(
            f"{url}/invocations", json={"dataframe_records": [{"carrier": "UA"}]}, timeout=120
        )

        assert answer.status_code == 200, answer.text
        (probabilities,) = answer.json()["predictions"]
        assert probabilities[1] == pytest.approx(expected, abs=1e-9)
        assert malformed.status_code == 400
        assert "missing inputs" in malformed.json()["message"] and "'distance'" in malformed.text
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.communicate(timeout=60)
    assert server.returncode == 0
    assert processes.port_is_free("127.0.0.1", port)  # the model server went with it
