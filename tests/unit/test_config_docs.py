"""docs/config.md is generated from the config models: it fails here when it went stale."""

from retrainer.boundaries.settings import PROJECT_ROOT
from retrainer.domain.config import ModelFamily
from retrainer.domain.config_docs import config_reference, type_name


def test_the_committed_config_reference_matches_the_models():
    committed = (PROJECT_ROOT / "docs" / "config.md").read_text(encoding="utf-8")

    assert committed == config_reference(), "docs/config.md is stale: run `make docs`"


def test_every_field_of_every_section_is_listed():
    text = config_reference()

    assert "| `prediction_horizon_hours` | float | `2.0` |" in text
    assert "| `family` | one of `hist_gradient_boosting`, `logistic_regression`" in text
    assert "## DeploymentConfig" in text and "## ScheduleConfig" in text
    assert type_name(list[str]) == "list of str" and "`random_forest`" in type_name(ModelFamily)
