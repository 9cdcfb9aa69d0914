"""The outbox: every SMS and WeChat message the platform sends, as staff can read it."""

from datetime import datetime

from sqlalchemy import DateTime, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from hpf.kit.db import Base, BigId


class OutboxMessage(Base):
    """One outgoing message; a delivery worker (or the local carrier) marks it sent."""

    __tablename__ = "notice_outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(12))  # sms | wechat
    recipient: Mapped[str] = mapped_column(String(64))
    template: Mapped[str] = mapped_column(String(48))
    content: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(12), default="queued")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_notice_outbox_recipient", "recipient", "id"),)
