"""The demo's three sources through the real lake: idempotent landing, the weather glitch."""

import hashlib
from pathlib import Path

import pandas as pd

from retrainer.boundaries import demo
from retrainer.boundaries.ingest import KeyIndex, Rules, ingest_delivery
from retrainer.boundaries.lake import Lake
from retrainer.boundaries.settings import expectations_dir
from retrainer.boundaries.sources import deliveries
from retrainer.domain.config import RetrainConfig

NOW = pd.Timestamp("2026-11-23", tz="UTC")


def ingest_all(config: RetrainConfig, landing: Path, lake: Lake, gx_root: Path) -> int:
    """Ingest every source's deliveries; return how many were new."""
    new = 0
    for source in config.sources:
        keys = KeyIndex(lake, source)
        rules = Rules(source, expectations_dir() / source.suite, gx_root, (), b"test key")
        for delivery in deliveries(source, landing):
            new += ingest_delivery(lake, rules, delivery, keys, NOW) is not None
    return new


def tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_landing_a_month_twice_leaves_the_lake_byte_identical(tmp_path, flights_config):
    landing, lake = tmp_path / "landing", Lake(tmp_path / "lake")
    demo.land_month(landing, 1, every=50)
    assert ingest_all(flights_config, landing, lake, tmp_path / "gx") == 8  # 1 + 5 feed + 2 tables
    before = tree(lake.root)

    demo.land_month(landing, 1, every=50)
    assert ingest_all(flights_config, landing, lake, tmp_path / "gx") == 0
    assert tree(lake.root) == before


def test_weather_glitch_is_quarantined_with_its_reason(tmp_path, flights_config):
    landing, lake = tmp_path / "landing", Lake(tmp_path / "lake")
    demo.land_month(landing, 2, every=50)
    ingest_all(flights_config, landing, lake, tmp_path / "gx")

    quarantine = lake.read_quarantine("weather")
    glitch = quarantine[quarantine["wind_speed"].astype(float) > 1000]
    assert len(glitch) == 1
    assert "physically impossible" in glitch["_reason"].iloc[0]
    assert lake.read_validated("weather")["wind_speed"].max() < 150

    (weather,) = lake.audit(["weather"])
    assert weather.quarantined == 1 and weather.accepted == weather.rows_in - 1
    assert weather.partitions == {"year=2013/month=02": weather.accepted}
    (reason,) = weather.top_reasons
    assert reason.rows == 1 and reason.values == "1048.36"
    assert reason.check == "expect_column_values_to_be_between(wind_speed)"
    assert reason.reason.startswith("Sensor anomaly")  # the check is not repeated
