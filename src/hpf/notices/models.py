"""The outbox: every SMS and WeChat message the platform sends, as staff can read it."""

from datetime import datetime

from sqlalchemy import DateTime, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column, validates

from hpf.kit.db import Base, BigId
from hpf.kit.sealed import INDEX_CHARS, Sealed, recipient_index


class OutboxMessage(Base):
    """One outgoing message; a delivery worker (or the local carrier) marks it sent."""

    __tablename__ = "notice_outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(12))  # sms | wechat
    # A phone number or an openid: encrypted, found by recipient_bidx (kit.sealed).
    recipient: Mapped[str] = mapped_column("recipient_enc",
                                           Sealed("notice_outbox.recipient", length=255))
    recipient_bidx: Mapped[str] = mapped_column(String(INDEX_CHARS))
    template: Mapped[str] = mapped_column(String(48))
    content: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(12), default="queued")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_notice_outbox_recipient", "recipient_bidx", "id"),)

    @validates("recipient")
    def _index_recipient(self, _key: str, value: str) -> str:
        self.recipient_bidx = recipient_index(value)
        return value
