"""The audit chain's hash rule (pure).

Each record's hash covers its own fields and the previous record's hash, so editing a record
changes its hash and breaks the link to the next one, and removing one breaks the sequence.
"""

import hashlib
import json
from collections.abc import Mapping
from typing import Any

GENESIS = "0" * 64
MAX_DETAIL_CHARS = 2000
FIELDS = ("seq", "at", "actor_kind", "actor_id", "actor_name", "channel", "event", "target",
          "outcome", "command_id", "ip", "detail")


def canonical(record: Mapping[str, Any]) -> str:
    """The hashed text of a record: its fields in a fixed order, JSON with sorted keys."""
    return json.dumps({name: record.get(name) for name in FIELDS}, sort_keys=True,
                      ensure_ascii=False, separators=(",", ":"), default=str)


def record_hash(prev_hash: str, record: Mapping[str, Any]) -> str:
    """SHA-256 over the previous hash and the record's canonical text, in hex."""
    return hashlib.sha256(f"{prev_hash}\n{canonical(record)}".encode()).hexdigest()
