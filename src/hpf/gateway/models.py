"""Stored commands (every call) and their approvals (maker-checker)."""

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from hpf.kit.db import Base, BigId
from hpf.kit.sealed import SealedText


class Command(Base):
    """One service call: who, channel, service, parameters, status, result, idempotency key.

    Status: running -> succeeded | failed, or pending (awaiting approval) -> succeeded |
    failed | rejected. The same record serves retries, the approval queue and the audit.
    """

    __tablename__ = "gateway_command"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    service_code: Mapped[str] = mapped_column(String(48))
    channel: Mapped[str] = mapped_column(String(16))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_name: Mapped[str | None] = mapped_column(String(64))
    employer_id: Mapped[int | None] = mapped_column(BigInteger)
    member_id: Mapped[int | None] = mapped_column(BigInteger)
    # Parameters and results carry ID numbers, phones and bank cards: both are stored
    # encrypted (hpf.kit.sealed) and are never searched in SQL.
    params_json: Mapped[str] = mapped_column(SealedText("gateway_command.params_json"))
    params_hash: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))
    result_json: Mapped[str | None] = mapped_column(SealedText("gateway_command.result_json"))
    error_code: Mapped[str | None] = mapped_column(String(48))
    error_message: Mapped[str | None] = mapped_column(String(300))
    # The application's amount, for per-user daily limits (限额控制).
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    # "service:subject" while the application awaits a decision, else NULL: the unique index
    # lets one application of a business per member or employer be in flight (在途业务).
    in_flight_key: Mapped[str | None] = mapped_column(String(80))
    required_approvals: Mapped[int] = mapped_column(Integer, default=0)
    approvals: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The decision deadline of a pending application, when its business has one.
    due_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        Index("ix_gateway_command_idem", "actor_kind", "actor_id", "idempotency_key",
              unique=True),
        Index("ix_gateway_command_status", "status", "service_code"),
        Index("ix_gateway_command_employer", "employer_id", "id"),
        Index("ix_gateway_command_member", "member_id", "id"),
        Index("ix_gateway_command_in_flight", "in_flight_key", unique=True),
    )


class Approval(Base):
    """One staff decision on a pending command."""

    __tablename__ = "gateway_approval"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    command_id: Mapped[int] = mapped_column(ForeignKey("gateway_command.id"))
    level: Mapped[int] = mapped_column(Integer)
    staff_id: Mapped[int] = mapped_column(BigInteger)
    staff_name: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(String(300))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_gateway_approval_once", "command_id", "staff_id", unique=True),)


class ChannelClient(Base):
    """A registered client of a channel (渠道接入终端): the app back end, the WeChat server, a
    kiosk. It signs its requests with its secret (hpf.gateway.signing); the secret is stored
    encrypted (hpf.kit.crypto), since checking an HMAC needs it in the clear."""

    __tablename__ = "gateway_client"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(32), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    secret_enc: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    command_id: Mapped[int | None] = mapped_column(BigInteger)
