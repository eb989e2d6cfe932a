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
