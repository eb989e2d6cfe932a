"""What the lake records about one delivery: its outcome, counts and where its rows went."""

import hashlib
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
    # Rows whose key was already in the lake with other values (whatever the policy did).
    corrections: int = 0
    # What was checked but did not block: warned expectations, empty model columns.
    warnings: list[str] = field(default_factory=list)
    # Fingerprint of the rules the delivery was judged by (suite + source config): a rejected
    # delivery is judged again only when they change.
    rules: str = ""
    # Content hashes this delivery had before an erasure rewrote its raw copy: the original
    # file, delivered again, is recognised and not ingested a second time.
    previous_sha256: list[str] = field(default_factory=list)

    def known_as(self, sha256: str) -> bool:
        """True when ``sha256`` is this delivery's content hash, now or before an erasure."""
        return sha256 == self.sha256 or sha256 in self.previous_sha256


def rules_fingerprint(*parts: bytes) -> str:
    """A short hash of everything a delivery is judged by (suite file, source config)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:16]


def outstanding_rejections(records: list[DeliveryRecord]) -> list[DeliveryRecord]:
    """Rejected deliveries not replaced since: no accepted delivery has their name or content.

    A source replaces a bad file by delivering a good one under the same name (or the same
    bytes, once the rules that refused them are fixed); until then the rejection stands and
    every run reports it.
    """
    accepted = [r for r in records if r.status == "accepted"]
    names = {r.name for r in accepted}
    latest: dict[str, DeliveryRecord] = {}
    for record in records:
        if record.status != "rejected" or record.name in names:
            continue
        if any(a.known_as(record.sha256) for a in accepted):
            continue
        latest[record.name] = record  # commit order: a later rejection of a name wins
    return list(latest.values())


def first_line(text: str | None) -> str:
    """The first line of a reason: what a table cell or a log line shows."""
    return (text or "").splitlines()[0] if text else ""
