"""The model store under faults: damaged and untrusted artifacts, a copied home, runs and
versions a killed process left behind. Real MLflow on a SQLite file in a temp home."""

import shutil
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import skops.io
import yaml
from mlflow import MlflowClient
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from retrainer.boundaries import tracking
from retrainer.domain.config import FeatureConfig, ModelConfig
from retrainer.domain.modeling import build_pipeline, fit
from tests.faults import dead_process_tags

pytestmark = pytest.mark.flow
MODEL = "m"


def fitted(family: str = "hist_gradient_boosting") -> Pipeline:
    """A small fitted model of ``family``, built by the app's own factory."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=200), "c": rng.choice(["a", "b"], size=200)})
    frame["y"] = (frame["x"] > 0).astype(int)
    features = FeatureConfig(numeric=["x"], categorical=["c"])
    return fit(build_pipeline(ModelConfig(family=family), features, ["x"], ["c"]), frame, "y", 1)


def register(home: Path, pipeline, experiment: str = "e") -> str:
    """Log and register ``pipeline`` as the app does (skops, the fixed trusted types)."""
    uri = f"sqlite:///{home / 'mlflow.db'}"
    experiment_id = tracking.use_experiment(uri, experiment, home / "mlartifacts")
    with mlflow.start_run(experiment_id=experiment_id, tags=tracking.owner_tags()):
        info = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            registered_model_name=MODEL,
            pip_requirements=["scikit-learn"],
            skops_trusted_types=tracking._skops_trusted_types(pipeline),
        )
    return str(info.registered_model_version)


def artifact_dir(version: str) -> Path:
    return Path(mlflow.artifacts.download_artifacts(f"models:/{MODEL}/{version}"))


def stored_file(home: Path) -> Path:
    (found,) = home.glob("mlartifacts/**/model.skops")
    return found


def test_a_damaged_model_artifact_is_a_clear_error_not_a_crash(home: Path):
    version = register(home, fitted())
    path = stored_file(home)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    with pytest.raises(tracking.ModelArtifactError, match=f"models:/{MODEL}/{version}.*damaged"):
        tracking.load_model(MODEL, version)


def test_a_model_file_naming_an_untrusted_type_is_refused_whatever_its_mlmodel_says(
    home: Path,
):
    version = register(home, fitted())
    path = stored_file(home)
    smuggled = Pipeline([("step", FunctionTransformer(func=print))])
    path.write_bytes(skops.io.dumps(smuggled))
    mlmodel = path.parent / "MLmodel"
    spec = yaml.safe_load(mlmodel.read_text())
    spec["flavors"]["sklearn"]["skops_trusted_types"] = ["builtins.print"]  # the file vouches
    mlmodel.write_text(yaml.safe_dump(spec))

    assert mlflow.sklearn.load_model(f"models:/{MODEL}/{version}")  # MLflow trusts the file
    with pytest.raises(tracking.UntrustedModelError, match=r"builtins\.print"):
        tracking.load_model(MODEL, version)
    with pytest.raises(tracking.UntrustedModelError, match="outside the trusted list"):
        tracking._skops_trusted_types(smuggled)  # and such a model is never saved


def test_a_copied_home_reads_and_writes_its_own_artifacts(home: Path, tmp_path: Path):
    version = register(home, fitted())
    copy = tmp_path / "restored"
    shutil.copytree(home, copy)
    shutil.rmtree(home)  # a backup restored after the original was lost
    uri = f"sqlite:///{copy / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)

    rebased = tracking.prepare_local_store(uri, copy / "mlartifacts", copy / "locks" / "setup")

    assert rebased == [(home / "mlartifacts").as_uri()]
    assert hasattr(tracking.load_model(MODEL, version), "predict_proba")
    second = register(copy, fitted())
    run = MlflowClient().get_run(MlflowClient().get_model_version(MODEL, second).run_id)
    assert run.info.artifact_uri.startswith((copy / "mlartifacts").as_uri())
    assert not home.exists()  # nothing was written into the old home
    assert tracking.prepare_local_store(uri, copy / "mlartifacts", copy / "locks" / "s") == []


def test_runs_and_versions_a_killed_process_left_are_closed_and_live_ones_kept(home: Path):
    register(home, fitted())  # v1, decided below like a finished run
    client = MlflowClient()
    client.set_model_version_tag(MODEL, "1", "promotion.decision", "promoted")
    experiment_id = client.get_experiment_by_name("e").experiment_id
    killed = client.create_run(experiment_id, tags=dead_process_tags())  # left RUNNING
    orphan = client.create_model_version(MODEL, (home / "x").as_uri(), run_id=killed.info.run_id)
    alive = client.create_run(experiment_id, tags=tracking.owner_tags())  # a concurrent run
    pending = client.create_model_version(MODEL, (home / "y").as_uri(), run_id=alive.info.run_id)

    repair = tracking.repair_interrupted(MODEL, "e", "2026-11-24T10:00:00+00:00")

    assert repair.runs_failed == [killed.info.run_id]
    assert repair.versions_closed == [str(orphan.version)]
    assert client.get_run(killed.info.run_id).info.status == "FAILED"
    closed = client.get_model_version(MODEL, orphan.version).tags
    assert closed["promotion.decision"] == "failed" and "interrupted" in closed["promotion.reason"]
    assert client.get_run(alive.info.run_id).info.status == "RUNNING"
    assert "promotion.decision" not in client.get_model_version(MODEL, pending.version).tags
    assert tracking.repair_interrupted(MODEL, "e", "later").versions_closed == []
