"""Audit queries."""

from collections.abc import Iterator

from sqlalchemy import Row, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hpf.audit.domain import GENESIS
from hpf.audit.models import AuditHead, AuditRecord

HEAD_ID = 1


def next_link(session: Session) -> tuple[int, str]:
    """Lock the head and return (next seq, previous hash), creating the head on first use.

    Read under a row lock, then moved once by `set_head` with the new record's hash: one new
    row version of the head per record. (Moving the seq here and the hash there made two, and
    on PostgreSQL the one hot row's version chain grew twice as fast between prunings.)"""
    stmt = select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID).with_for_update()
    head = session.execute(stmt).first()
    if head is None:
        # First record ever. Two first appenders both find no row to lock: the head is
        # inserted unless there (the loser waits for the winner's commit and skips), then
        # locked and read like any other time.
        insert = (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)
        session.execute(insert(AuditHead).values(id=HEAD_ID, seq=0, hash=GENESIS)
                        .on_conflict_do_nothing(index_elements=["id"]))
        head = session.execute(stmt).one()
    return head.seq + 1, head.hash


def set_head(session: Session, seq: int, digest: str) -> None:
    """Move the head to the newest link."""
    session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=seq, hash=digest))


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
