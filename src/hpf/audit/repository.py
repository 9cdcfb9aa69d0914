"""Audit queries."""

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hpf.audit.domain import GENESIS
from hpf.audit.models import AuditHead, AuditRecord

HEAD_ID = 1


def next_link(session: Session) -> tuple[int, str]:
    """Lock the head and return (next seq, previous hash), creating the head on first use."""
    moved = session.execute(
        update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=AuditHead.seq + 1))
    if moved.rowcount == 0:
        # First record ever: a concurrent first append fails on the primary key and retries.
        session.add(AuditHead(id=HEAD_ID, seq=1, hash=GENESIS))
        session.flush()
        return 1, GENESIS
    head = session.execute(select(AuditHead.seq, AuditHead.hash)
                           .where(AuditHead.id == HEAD_ID)).one()
    return head.seq, head.hash


def set_head_hash(session: Session, digest: str) -> None:
    """Record the newest link's hash on the head."""
    session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(hash=digest))


def head(session: Session) -> tuple[int, str]:
    """(seq, hash) of the head, (0, GENESIS) for an empty chain."""
    row = session.execute(select(AuditHead.seq, AuditHead.hash)
                          .where(AuditHead.id == HEAD_ID)).first()
    return (row.seq, row.hash) if row else (0, GENESIS)


def records_in_order(session: Session, batch: int = 5000) -> Iterator[AuditRecord]:
    """Every record by seq, read in batches (the chain can hold millions)."""
    last = 0
    while True:
        rows = session.scalars(select(AuditRecord).where(AuditRecord.seq > last)
                               .order_by(AuditRecord.seq).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def search(session: Session, *, actor_name: str | None = None, event: str | None = None,
           outcome: str | None = None, since: datetime | None = None,
           until: datetime | None = None, limit: int = 100) -> list[AuditRecord]:
    """Records matching the filters, newest first."""
    stmt = select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(min(limit, 500))
    if actor_name:
        stmt = stmt.where(AuditRecord.actor_name == actor_name)
    if event:
        stmt = stmt.where(AuditRecord.event == event)
    if outcome:
        stmt = stmt.where(AuditRecord.outcome == outcome)
    if since:
        stmt = stmt.where(AuditRecord.at >= since)
    if until:
        stmt = stmt.where(AuditRecord.at < until)
    return list(session.scalars(stmt))
