"""What the lake records about one delivery: its outcome, counts and where its rows went."""

from dataclasses import dataclass, field


@dataclass
class DeliveryRecord:
    """What the lake knows about one delivery (one manifest entry)."""

    source: str
    name: str
    sha256: str
    received_at: str
    status: str  # accepted | rejected
    raw: str
    rows_in: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0
    validated: dict[str, int] = field(default_factory=dict)  # partition file -> rows
    quarantine: str | None = None
    reason: str | None = None
    dropped_columns: list[str] = field(default_factory=list)
    validation_seconds: float = 0.0
