"""Risk tables: the security signals rules look back on, and the alerts they raise."""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hpf.kit.db import Base, BigId


class RiskSignal(Base):
    """A security-relevant change of an account (phone changed, password reset, channel bound)
    that later rules look back on, e.g. a withdrawal within 24 hours of a phone change."""

    __tablename__ = "risk_signal"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    member_id: Mapped[int | None] = mapped_column(BigInteger)
    channel: Mapped[str | None] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_risk_signal_user", "user_id", "kind", "at"),
        Index("ix_risk_signal_member", "member_id", "kind", "at"),
    )


class RiskAlert(Base):
    """A flagged case for staff review (风险预警). A `hold` alert keeps its application pending
    until a reviewer decides; the decision clears (approved) or confirms (rejected) it."""

    __tablename__ = "risk_alert"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rule: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8))  # alert | hold
    status: Mapped[str] = mapped_column(String(10), default="open")
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    member_id: Mapped[int | None] = mapped_column(BigInteger)
    # What the rule counted on when not a person: a keyed hash of an address or a device.
    subject: Mapped[str | None] = mapped_column(String(64))
    command_id: Mapped[int | None] = mapped_column(BigInteger)
    service_code: Mapped[str | None] = mapped_column(String(48))
    channel: Mapped[str | None] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(String(200))
    detail_json: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    review_note: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (
        Index("ix_risk_alert_status", "status", "id"),
        Index("ix_risk_alert_command", "command_id"),
        Index("ix_risk_alert_rule_subject", "rule", "subject", "created_at"),
        CheckConstraint("severity IN ('alert', 'hold')", name="severity"),
        CheckConstraint("status IN ('open', 'cleared', 'confirmed')", name="status"),
    )
