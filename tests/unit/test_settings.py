"""Settings and secrets: one model reads the environment; no secret is printed or configured."""

import pytest

from retrainer.boundaries.settings import MissingSecretError, Settings, config_path, home, secret
from retrainer.boundaries.sources.sql import connection_url
from retrainer.domain.config import ConfigError, load_config, load_dataset

PASSWORD = "s3cr3t-Pa55"


def _planes(config: dict) -> dict:
    return next(s for s in config["sources"] if s["name"] == "planes")


def test_settings_read_the_environment_and_hide_secrets(monkeypatch, tmp_path):
    monkeypatch.setenv("RETRAINER_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", f"admin:{PASSWORD}")

    settings = Settings()

    assert home().root == (tmp_path / "state").resolve()
    assert settings.prefect_api_auth_string.get_secret_value() == f"admin:{PASSWORD}"
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings.model_dump())


def test_a_password_in_a_source_url_is_refused(edited_config):
    def embed(config):
        _planes(config)["url"] = f"postgresql+psycopg2://retrainer:{PASSWORD}@db:5432/planes"

    with pytest.raises(ConfigError, match="carries a password") as err:
        load_config(edited_config(embed))
    assert PASSWORD not in str(err.value)


def test_the_password_is_read_from_the_named_variable_at_connection_time(
    edited_config, tmp_path, monkeypatch
):
    def by_name(config):
        _planes(config).update(
            url="postgresql+psycopg2://retrainer@db:5432/planes", password_env="PLANES_PASSWORD"
        )

    config = load_config(edited_config(by_name))
    source = config.source("planes")
    assert PASSWORD not in config.model_dump_json()

    with pytest.raises(MissingSecretError, match="PLANES_PASSWORD is not set"):
        connection_url(source, tmp_path)
    monkeypatch.setenv("PLANES_PASSWORD", PASSWORD)
    url = connection_url(source, tmp_path)
    assert url.password == PASSWORD and PASSWORD not in repr(url) and PASSWORD not in str(url)


def test_secret_never_shows_its_value(monkeypatch):
    monkeypatch.setenv("SOME_TOKEN", PASSWORD)
    assert PASSWORD not in repr(secret("SOME_TOKEN")) and PASSWORD not in str(secret("SOME_TOKEN"))


def test_deployment_settings_are_not_part_of_the_run_parameter():
    dataset = load_dataset(config_path("flights"))

    assert "deployment" not in dataset.config.model_dump()
    assert dataset.deployment.retrain.cron == "0 6 * * 1"


def test_problems_in_both_parts_of_a_file_are_reported_together(edited_config):
    def break_both(config):
        config["promotion"]["min_improvment"] = 0.1
        config["deployment"]["timezone"] = "Mars/Olympus"

    with pytest.raises(ConfigError) as err:
        load_dataset(edited_config(break_both))
    assert "promotion.min_improvment" in str(err.value)
    assert "deployment.timezone" in str(err.value)
