"""Audit search for the staff console (审计查询): filters, newest first, a page at a time.

Keyset pages (`before` a sequence number) rather than offsets: the chain holds millions of
records, and an offset would read every skipped one.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.audit.models import AuditRecord

PAGE_SIZE = 50
MAX_FILTER_CHARS = 64


@dataclass(frozen=True)
class Filters:
    """What to look for; None leaves a field unfiltered. Times are UTC, `until` exclusive."""

    since: datetime | None = None
    until: datetime | None = None
    event_prefix: str | None = None
    actor: str | None = None
    outcome: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class Page:
    """Records of one page and the `before` of the next (None: no more)."""

    records: list[dict]
    next_before: int | None


def _prefix(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


def search(session: Session, filters: Filters, before: int | None = None,
           limit: int = PAGE_SIZE) -> Page:
    """One page of matching records, newest first."""
    limit = max(1, min(limit, PAGE_SIZE))
    t = AuditRecord.__table__
    stmt = select(t).order_by(t.c.seq.desc()).limit(limit + 1)
    if filters.since is not None:
        stmt = stmt.where(t.c.at >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(t.c.at < filters.until)
    if filters.event_prefix:
        stmt = stmt.where(t.c.event.like(_prefix(filters.event_prefix), escape="\\"))
    if filters.actor:
        stmt = stmt.where(t.c.actor_name == filters.actor)
    if filters.outcome:
        stmt = stmt.where(t.c.outcome == filters.outcome)
    if filters.channel:
        stmt = stmt.where(t.c.channel == filters.channel)
    if before is not None:
        stmt = stmt.where(t.c.seq < before)
    rows = session.execute(stmt).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return Page([dict(r._mapping) for r in rows], rows[-1].seq if more and rows else None)
