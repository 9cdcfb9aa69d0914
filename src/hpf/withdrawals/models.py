"""Withdrawal (提取) tables: applications, payout batches to the banks, scheduled withdrawals.

An application's money moves in three steps, each balanced in the ledger: reserved at
application (a hold on the member's account), posted at decision (member deposits → payouts
pending, 待付提取款), then paid by the bank (payouts pending → bank settlement) or, when the
payout fails, returned to the member's account.
"""

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from hpf.kit.db import Base, BigId
from hpf.kit.sealed import Sealed

# Application status (提取申请状态)
REVIEWING, APPROVED, PAYING, PAID, FAILED, REJECTED, DISPUTED = (
    "reviewing", "approved", "paying", "paid", "failed", "rejected", "disputed")
STATUS_ZH = {REVIEWING: "审核中", APPROVED: "已审批待付款", PAYING: "银行付款中",
             PAID: "已到账", FAILED: "付款失败已退回", REJECTED: "未通过",
             DISPUTED: "银行回单异常待核对"}


class WdApplication(Base):
    """One withdrawal application (提取申请), filed under its gateway command."""

    __tablename__ = "wd_application"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    command_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    application_no: Mapped[str] = mapped_column(String(20), unique=True)
    member_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))  # catalogue code, wd.rent ...
    reason_code: Mapped[str] = mapped_column(String(2))  # JGJ/T 320 提取原因
    channel: Mapped[str] = mapped_column(String(16))
    route: Mapped[str] = mapped_column(String(8))  # auto | review | counter
    status: Mapped[str] = mapped_column(String(12))
    requested_fen: Mapped[int | None] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # reserved, then paid
    interest_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # closing kinds
    closes_account: Mapped[bool] = mapped_column(Boolean, default=False)
    bank_code: Mapped[str] = mapped_column(String(8))
    # The member's own card: encrypted at rest, shown as 6222****1234.
    card_no: Mapped[str] = mapped_column("card_no_enc", Sealed("wd_application.card_no"))
    account_name: Mapped[str] = mapped_column(String(50))
    # The document the withdrawal rests on (contract, certificate, invoice, loan contract):
    # the frequency rules count withdrawals per document.
    # Comma-separated when the withdrawal rests on several invoices.
    document_no: Mapped[str | None] = mapped_column(Text)
    details_json: Mapped[str | None] = mapped_column(Text)
    review_reasons: Mapped[str | None] = mapped_column(Text)
    reservation_id: Mapped[int | None] = mapped_column(BigInteger)
    applied_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)  # decision deadline (3 working days)
    decided_on: Mapped[date | None] = mapped_column(Date)
    decision_reason: Mapped[str | None] = mapped_column(String(300))
    voucher_id: Mapped[int | None] = mapped_column(BigInteger)
    batch_no: Mapped[str | None] = mapped_column(String(32))
    batch_seq: Mapped[int | None] = mapped_column(Integer)
    bank_txn_id: Mapped[str | None] = mapped_column(String(64))
    paid_on: Mapped[date | None] = mapped_column(Date)
    failure_code: Mapped[str | None] = mapped_column(String(8))
    failure_reason: Mapped[str | None] = mapped_column(String(100))
    schedule_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())

    __table_args__ = (
        Index("ix_wd_application_member", "member_id", "kind", "applied_on"),
        Index("ix_wd_application_status", "status", "bank_code"),
        Index("ix_wd_application_batch", "batch_no", "batch_seq"),
    )


class WdPayoutBatch(Base):
    """A payout instruction file sent to one commissioned bank (付款指令批次)."""

    __tablename__ = "wd_payout_batch"

    batch_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    bank_code: Mapped[str] = mapped_column(String(8))
    created_on: Mapped[date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(Integer)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12))  # submitted | settled
    sha256: Mapped[str] = mapped_column(String(64))
    settled_on: Mapped[date | None] = mapped_column(Date)
    paid_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_wd_payout_batch_status", "status", "bank_code"),)


class WdSchedule(Base):
    """A scheduled withdrawal (约定提取): a monthly rent withdrawal the job files for the member."""

    __tablename__ = "wd_schedule"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    bank_code: Mapped[str] = mapped_column(String(8))
    card_no: Mapped[str] = mapped_column("card_no_enc", Sealed("wd_schedule.card_no"))
    account_name: Mapped[str] = mapped_column(String(50))
    first_period: Mapped[int] = mapped_column(Integer)  # YYYYMM
    last_period: Mapped[int] = mapped_column(Integer)
    done_through: Mapped[int | None] = mapped_column(Integer)  # last period filed
    status: Mapped[str] = mapped_column(String(12))  # active | ended | cancelled
    signed_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    command_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (Index("ix_wd_schedule_member", "member_id", "status"),)
