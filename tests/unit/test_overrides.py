"""`retrainer trigger --param k=v`: dotted paths into the config, checked before sending."""

import pytest

from retrainer.boundaries.settings import config_path
from retrainer.domain.config import load_config
from retrainer.domain.overrides import OverrideError, apply_overrides, parse_assignments


@pytest.fixture
def base() -> dict:
    return load_config(config_path("flights")).model_dump(mode="json")


def test_values_are_read_as_yaml_scalars():
    assert parse_assignments(
        ["model.params.max_iter=50", "promotion.require_approval=true", "name=x", "a.b="]
    ) == {"model.params.max_iter": 50, "promotion.require_approval": True, "name": "x", "a.b": ""}


@pytest.mark.parametrize("bad", ["max_iter", "=5", "model..max_iter=5", "a.=1"])
def test_malformed_assignments_are_refused(bad):
    with pytest.raises(OverrideError, match="is not key=value"):
        parse_assignments([bad])


def test_overrides_reach_nested_fields_and_leave_the_base_alone(base):
    before = dict(base["model"]["params"])
    config = apply_overrides(base, {"model.params.max_iter": 50, "promotion.min_improvement": 0.01})

    assert config.model.params == {**before, "max_iter": 50}  # one key changed, the rest kept
    assert config.promotion.min_improvement == 0.01
    assert base["model"]["params"] == before


def test_a_misspelt_field_is_named(base):
    with pytest.raises(OverrideError, match=r"promotion\.min_improvment: Extra inputs"):
        apply_overrides(base, {"promotion.min_improvment": 0.01})


def test_an_invalid_value_is_named(base):
    with pytest.raises(OverrideError, match=r"split\.test_months: Input should be greater"):
        apply_overrides(base, {"split.test_months": 0})


def test_a_path_through_a_value_is_refused(base):
    with pytest.raises(OverrideError, match="name is not a section"):
        apply_overrides(base, {"name.first": "x"})


def test_a_missing_optional_section_is_created(base):
    del base["evaluation"]

    config = apply_overrides(base, {"evaluation.importance_rows": 30})

    assert config.evaluation.importance_rows == 30
