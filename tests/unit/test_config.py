"""Config files: the demo loads; a broken one says what is wrong, in one message."""

import pytest

from retrainer.boundaries.settings import config_path
from retrainer.domain.config import ConfigError, load_config


def test_demo_config_loads():
    config = load_config(config_path("flights"))
    assert config.base == "flights" and config.source("weather").kind == "feed"


def test_unknown_field_and_bad_reference_are_reported(tmp_path):
    text = config_path("flights").read_text().replace("base: flights", "base: nowhere")
    text = text.replace("  min_improvement: 0.0", "  min_improvment: 0.0")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "min_improvment" in str(err.value)


def test_unknown_base_source(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(config_path("flights").read_text().replace("base: flights", "base: nowhere"))
    with pytest.raises(ConfigError, match=r"unknown sources \['nowhere'\]"):
        load_config(path)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "absent.yaml")
    (tmp_path / "x.yaml").write_text("name: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "x.yaml")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda c: c["features"]["numeric"].append("distanse"),
            "features.numeric: 'distanse' is not a column of the training table "
            "(did you mean 'distance'?)",
        ),
        (
            lambda c: c["lookups"][2]["columns"].append("tmep"),
            "(weather).columns: 'tmep' is not a column of weather (did you mean 'temp'?)",
        ),
        (
            lambda c: c["target"].update(column="arr_dealy"),
            "target.column: 'arr_dealy' is not a column of the base source flights",
        ),
        (
            lambda c: c["features"]["history"][0].update(value="dep_dealy"),
            "features.history[dep]: 'dep_dealy' is not a column of source flights "
            "(did you mean 'dep_delay'?)",
        ),
        (lambda c: c.update(name="flights_v2"), "name: String should match pattern"),
        (
            lambda c: c["split"].pop("timezone"),
            "split.timezone is required: calendar months depend on it",
        ),
        (
            lambda c: c["target"].update(positive="Yes"),
            "exactly one of `threshold` (column >= threshold) or `positive`",
        ),
        (
            lambda c: c["promotion"].update(metric="r2"),
            "promotion.metric 'r2' does not fit a binary target",
        ),
        (
            lambda c: c["features"]["history"][0].update(windows=["soon"]),
            "window 'soon' is not a duration",
        ),
    ],
)
def test_config_mistakes_are_named_before_any_data_is_read(edited_config, change, message):
    with pytest.raises(ConfigError) as err:
        load_config(edited_config(change))
    assert message in str(err.value)


def test_every_bundled_config_loads():
    from retrainer.boundaries.settings import bundled_configs

    kinds = {load_config(path).name: load_config(path).target.kind for path in bundled_configs()}
    assert kinds == {"flights": "binary", "flights-minutes": "regression", "churn": "binary"}
