"""Audit queries."""

from collections.abc import Iterator

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from hpf.audit.domain import GENESIS
from hpf.audit.models import AuditHead, AuditRecord

HEAD_ID = 1


def next_link(session: Session) -> tuple[int, str]:
    """Lock the head and return (next seq, previous hash), creating the head on first use."""
    # One statement locks, moves and reads the head (RETURNING: SQLite 3.35+, PostgreSQL).
    head = session.execute(
        update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=AuditHead.seq + 1)
        .returning(AuditHead.seq, AuditHead.hash)).first()
    if head is None:
        # First record ever: a concurrent first append fails on the primary key and retries.
        session.add(AuditHead(id=HEAD_ID, seq=1, hash=GENESIS))
        session.flush()
        return 1, GENESIS
    return head.seq, head.hash


def set_head_hash(session: Session, digest: str) -> None:
    """Record the newest link's hash on the head."""
    session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(hash=digest))


def head(session: Session) -> tuple[int, str]:
    """(seq, hash) of the head, (0, GENESIS) for an empty chain."""
    row = session.execute(select(AuditHead.seq, AuditHead.hash)
                          .where(AuditHead.id == HEAD_ID)).first()
    return (row.seq, row.hash) if row else (0, GENESIS)


def records_in_order(session: Session, batch: int = 5000) -> Iterator[Row]:
    """Every record by seq as plain rows, read in batches (the chain can hold millions).

    Rows, not ORM objects: nothing piles up in (or is evicted from) the caller's session.
    """
    table = AuditRecord.__table__
    last = 0
    while True:
        rows = session.execute(select(table).where(table.c.seq > last)
                               .order_by(table.c.seq).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
