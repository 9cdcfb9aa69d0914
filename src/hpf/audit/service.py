"""Appending to the audit chain and verifying it.

`record()` runs inside the caller's transaction, as its last write: the record commits with
the event it describes (a login, a service call's outcome, a management change) or not at
all. It locks the chain's head, so it must come last in the transaction: the lock is then held
only for the commit, and no transaction waits on the head while holding other rows.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from hpf.audit import repository
from hpf.audit.domain import GENESIS, MAX_DETAIL_CHARS, record_hash
from hpf.audit.models import AuditRecord
from hpf.kit import clock


def record(session: Session, event: str, outcome: str, *, actor_kind: str,
           actor_id: int | None = None, actor_name: str | None = None,
           channel: str | None = None, target: str | None = None,
           command_id: int | None = None, ip: str | None = None,
           detail: dict[str, Any] | None = None) -> AuditRecord:
    """Append one record to the chain (inside the caller's transaction, as its last write)."""
    text = None
    if detail:
        text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
        if len(text) > MAX_DETAIL_CHARS:
            text = text[:MAX_DETAIL_CHARS - 1] + "…"
    seq, prev = repository.next_link(session)
    fields = {
        "seq": seq, "at": _utc_text(clock.now()), "actor_kind": actor_kind[:16],
        "actor_id": actor_id, "actor_name": (actor_name or None) and actor_name[:64],
        "channel": (channel or None) and channel[:16], "event": event[:32],
        "target": (target or None) and target[:64], "outcome": outcome[:16],
        "command_id": command_id, "ip": (ip or None) and ip[:45], "detail": text,
    }
    digest = record_hash(prev, fields)
    row = AuditRecord(**{**fields, "at": datetime.fromisoformat(fields["at"])},
                      prev_hash=prev, hash=digest)
    session.add(row)
    repository.set_head(session, seq, digest)
    session.flush()
    return row


def _utc_text(moment: datetime) -> str:
    """The instant as hashed: UTC to the microsecond (SQLite hands it back without a zone)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass
class ChainReport:
    """Outcome of a chain check: records checked and the problems found."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the chain is whole."""
        return not self.problems


MAX_PROBLEMS = 50


def verify(session: Session) -> ChainReport:
    """Recompute the chain: every hash, every link, no gap in the sequence, the head at its end."""
    report = ChainReport()
    expected_seq, prev = 1, GENESIS
    for row in repository.records_in_order(session):
        report.checked += 1
        if row.seq != expected_seq:
            report.problems.append(f"records {expected_seq} to {row.seq - 1} are missing")
        if row.prev_hash != prev:
            report.problems.append(f"record {row.seq}: does not link to the record before it")
        fields = {
            "seq": row.seq, "at": _utc_text(row.at), "actor_kind": row.actor_kind,
            "actor_id": row.actor_id, "actor_name": row.actor_name, "channel": row.channel,
            "event": row.event, "target": row.target, "outcome": row.outcome,
            "command_id": row.command_id, "ip": row.ip, "detail": row.detail,
        }
        if record_hash(row.prev_hash, fields) != row.hash:
            report.problems.append(f"record {row.seq}: content does not match its hash")
        expected_seq, prev = row.seq + 1, row.hash
        if len(report.problems) >= MAX_PROBLEMS:
            return report
    head_seq, head_hash = repository.head(session)
    if (head_seq, head_hash) != (expected_seq - 1, prev):
        report.problems.append(
            f"chain ends at record {expected_seq - 1} but its head says {head_seq}")
    return report
