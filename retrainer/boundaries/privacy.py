"""The pseudonym key: from the environment, or generated once per home; and the lake's guard.

``RETRAINER_PSEUDONYM_KEY`` wins. Without it a random key is generated on first use into
``$RETRAINER_HOME/secrets/pseudonym.key`` (mode 0600): a backup of the home carries its key,
so restored data keeps joining. The lake remembers a fingerprint of the key it was written
with (``_privacy.json``, never the key) and refuses another: pseudonyms from two keys would
never match, and joins across old and new data would silently come back empty.
"""

import json
from pathlib import Path

from retrainer.boundaries.lake import atomic_write
from retrainer.boundaries.settings import Home, home_secret, settings
from retrainer.domain.privacy import key_id

KEY_FILE = "pseudonym.key"
LAKE_FILE = "_privacy.json"


class PseudonymKeyError(RuntimeError):
    """The key in force is not the one the lake's pseudonyms were made with."""


def pseudonym_key(h: Home) -> bytes:
    """The key for pseudonyms: RETRAINER_PSEUDONYM_KEY, else this home's generated key."""
    configured = settings().pseudonym_key
    if configured is not None:
        return configured.get_secret_value().encode()
    return home_secret(h, KEY_FILE).encode()


def check_key(lake_root: Path, key: bytes) -> None:
    """Remember the key's fingerprint in the lake, or refuse a key that differs from it."""
    path = lake_root / LAKE_FILE
    current = key_id(key)
    if not path.exists():
        atomic_write(path, json.dumps({"key_id": current}).encode())
        return
    stored = json.loads(path.read_text())["key_id"]
    if stored != current:
        raise PseudonymKeyError(
            f"the pseudonym key in force (id {current}) is not the one the lake's personal "
            f"columns were pseudonymised with (id {stored}): set RETRAINER_PSEUDONYM_KEY to that "
            "key (or restore secrets/pseudonym.key); mixing keys breaks every join on them"
        )
