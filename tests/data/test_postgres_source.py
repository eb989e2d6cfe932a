"""The `sql` source kind against a real PostgreSQL server, started and stopped by the test."""

import pandas as pd
import pytest
import sqlalchemy as sa

from retrainer.boundaries import demo
from retrainer.boundaries.ingest import KeyIndex, Rules, ingest_delivery
from retrainer.boundaries.lake import Lake
from retrainer.boundaries.settings import expectations_dir
from retrainer.boundaries.sources import deliveries
from retrainer.domain.privacy import pseudonym
from tests.postgres import postgres_cluster

KEY = b"test key"


@pytest.fixture
def postgres_url():
    """A throwaway PostgreSQL cluster, stopped after the test."""
    with postgres_cluster() as url:
        yield url


def test_planes_table_on_postgresql_lands_like_sqlite(postgres_url, tmp_path, flights_config):
    planes = demo._dataset("planes")
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        planes.to_sql("planes", conn, index=False)
    engine.dispose()
    config = flights_config.model_copy(deep=True)
    source = config.source("planes")
    source.url = postgres_url
    lake = Lake(tmp_path / "lake")

    (delivery,) = deliveries(source, tmp_path / "landing")
    rules = Rules(source, expectations_dir() / source.suite, tmp_path / "gx", (), KEY)
    now = pd.Timestamp("2026-11-23", tz="UTC")
    result = ingest_delivery(lake, rules, delivery, KeyIndex(lake, source), now)

    assert result.record.status == "accepted" and result.record.accepted == len(planes)
    landed = lake.read_validated("planes")
    # tailnum is personal in the demo: the lake holds its keyed pseudonym, never the value.
    assert set(landed["tailnum"]) == {pseudonym(t, KEY) for t in planes["tailnum"]}
    again = deliveries(source, tmp_path / "landing")[0]
    assert again.sha256 == delivery.sha256  # an unchanged table is an already-seen delivery
