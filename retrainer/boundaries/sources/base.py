"""What every source kind hands to ingestion: the bytes as received and how to parse them."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import pandas as pd


class DeliveryError(ValueError):
    """A delivery cannot be parsed at all (empty, truncated, not UTF-8, malformed)."""


def require_utf8(content: bytes) -> None:
    """Text formats must be UTF-8: say where they are not, rather than guess an encoding."""
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = content[exc.start : exc.start + 4]
        raise DeliveryError(
            f"not UTF-8 (byte {exc.start}: {bad!r}); re-export it as UTF-8"
        ) from exc


@dataclass(frozen=True)
class Delivery:
    """One unit a source delivered: a file, a feed batch or a table snapshot."""

    source: str
    name: str
    content: bytes
    suffix: str
    parse: Callable[[bytes], pd.DataFrame]

    @cached_property
    def sha256(self) -> str:
        """Content hash: the identity of the delivery; the same bytes are ingested once."""
        return hashlib.sha256(self.content).hexdigest()

    def frame(self) -> pd.DataFrame:
        """Parse the content; raise ``DeliveryError`` naming the delivery when it cannot."""
        if not self.content.strip():
            raise DeliveryError(f"{self.name}: the delivery is empty")
        try:
            frame = self.parse(self.content)
        except DeliveryError as exc:
            raise DeliveryError(f"{self.name}: {exc}") from exc
        except Exception as exc:
            raise DeliveryError(f"{self.name}: cannot be parsed: {exc}") from exc
        if frame.empty:
            raise DeliveryError(f"{self.name}: no records (header only?)")
        return frame
