"""Queue notices in the outbox (SMS codes, account-change notices, arrears notices)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.kit.sealed import recipient_index
from hpf.notices.models import OutboxMessage

SMS_SIGNATURE = "【住房公积金】"


def _message(phone: str, template: str, content: str) -> OutboxMessage:
    return OutboxMessage(channel="sms", recipient=phone, template=template,
                         content=(SMS_SIGNATURE + content)[:1000], status="queued")


def send_sms(session: Session, phone: str, template: str, content: str) -> OutboxMessage:
    """Queue an SMS; the 12329 downlink worker delivers it (issue: channels)."""
    message = _message(phone, template, content)
    session.add(message)
    session.flush()
    return message


def send_sms_many(session: Session, messages: list[tuple[str, str, str]]) -> int:
    """Queue many SMS (phone, template, content) with one flush (batch jobs); how many."""
    session.add_all([_message(*m) for m in messages])
    session.flush()
    return len(messages)


def latest(session: Session, recipient: str | None = None, limit: int = 50) -> list[OutboxMessage]:
    """The most recent messages, optionally for one recipient."""
    stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if recipient:
        stmt = stmt.where(OutboxMessage.recipient_bidx == recipient_index(recipient))
    return list(session.scalars(stmt))
