"""Pseudonymisation of personal columns: a keyed hash (HMAC-SHA256) replaces each value.

The same value gives the same pseudonym under the same key in every source, so
``flights.tailnum`` still joins ``planes.tailnum``; without the key a pseudonym cannot be
reversed or recomputed from a guessed value. Pure functions: the key is handed in.
"""

import hashlib
import hmac

import pandas as pd

PSEUDONYM_HEX = 32  # 128 bits: collisions are out of reach for any table this project sees
KEY_ID_MESSAGE = b"retrainer pseudonym key id"


def pseudonym(value: str, key: bytes) -> str:
    """The pseudonym of one value."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]


def key_id(key: bytes) -> str:
    """A fingerprint of the key, safe to store: tells whether two runs used the same key."""
    return hmac.new(key, KEY_ID_MESSAGE, hashlib.sha256).hexdigest()[:16]


def pseudonymise(frame: pd.DataFrame, columns: list[str], key: bytes) -> pd.DataFrame:
    """``frame`` with each of ``columns`` (when present) replaced by pseudonyms; NA stays NA."""
    out = frame.copy()
    for column in columns:
        if column not in out.columns:
            continue
        values = out[column].astype("string")
        # Hash each distinct value once: a column repeats a few thousand identifiers.
        mapping = {v: pseudonym(v, key) for v in values.dropna().unique()}
        out[column] = values.map(mapping, na_action="ignore").astype("string")
    return out
