"""The columns sources really deliver: the newest delivery of each, parsed as ingestion would.

Used to check a config before any work: a name under ``schema_mapping.types`` that no
delivery carries is most likely a typo, and the column it meant is being dropped.
"""

from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from retrainer.boundaries.settings import MissingSecretError
from retrainer.boundaries.sources import DeliveryError, deliveries
from retrainer.domain.config import RetrainConfig


def landed_columns(config: RetrainConfig, landing: Path) -> dict[str, list[str]]:
    """Each source's newest delivery's column names, as received; sources with none left out.

    A source that cannot be read now (a broken file, a database down, a missing password) is
    left out too: ingestion reports those with the detail they deserve.
    """
    found = {}
    for source in config.sources:
        try:
            newest = deliveries(source, landing)[-1:]
            frame = newest[0].frame() if newest else None
        except (DeliveryError, OSError, SQLAlchemyError, MissingSecretError):
            continue
        if frame is not None:
            found[source.name] = [str(column) for column in frame.columns]
    return found
