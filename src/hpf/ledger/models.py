"""Ledger tables: subjects, accounts with their balances, vouchers, postings, reservations."""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from hpf.kit.db import Base, BigId


class LedgerSubject(Base):
    """A subject (会计科目) of the chart; its balance is the total of its accounts."""

    __tablename__ = "ledger_subject"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(128))
    normal_side: Mapped[str] = mapped_column(String(1))
    kind: Mapped[str] = mapped_column(String(16))
    balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (CheckConstraint("normal_side IN ('D', 'C')", name="side"),)


class LedgerAccount(Base):
    """An account under a subject, with its balance kept in the posting transaction.

    Interest-bearing member accounts also carry the open interest year's product-sum (积数):
    `accrual_fen_days` is Σ balance × days from the year's start to its end, assuming today's
    balance stays until 30 June; each posting adds delta × (year end - value date). Settlement
    then needs one pass over accounts instead of one over a year of postings.
    """

    __tablename__ = "ledger_account"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject_code: Mapped[str] = mapped_column(ForeignKey("ledger_subject.code"))
    owner_kind: Mapped[str | None] = mapped_column(String(16))
    owner_id: Mapped[int | None] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(128))
    balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    accrual_year: Mapped[int | None] = mapped_column(Integer)
    accrual_fen_days: Mapped[int] = mapped_column(BigInteger, default=0)
    year_open_balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    last_interest_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_run_id: Mapped[int | None] = mapped_column(BigInteger)
    # Set on the centre's own accounts (bank, suspense, expense): one per subject and owner.
    system_key: Mapped[str | None] = mapped_column(String(48), unique=True)
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        CheckConstraint("reserved_fen >= 0", name="reserved_nonneg"),
        Index("ix_ledger_account_owner", "owner_kind", "owner_id"),
        Index("ix_ledger_account_subject", "subject_code"),
    )


class Voucher(Base):
    """A balanced voucher (记账凭证); never updated, corrected by a reversal voucher."""

    __tablename__ = "ledger_voucher"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_type: Mapped[str] = mapped_column(String(24))
    posted_on: Mapped[date] = mapped_column(Date)
    value_date: Mapped[date] = mapped_column(Date)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    line_count: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(String(200))
    command_id: Mapped[int | None] = mapped_column(BigInteger)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_voucher.id"))
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("total_fen > 0", name="total_pos"),
        Index("ix_ledger_voucher_reverses", "reverses_id", unique=True),
    )


class Posting(Base):
    """One line of a voucher on one account (append-only; database triggers refuse changes)."""

    __tablename__ = "ledger_posting"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    voucher_id: Mapped[int] = mapped_column(ForeignKey("ledger_voucher.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"))
    side: Mapped[str] = mapped_column(String(1))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    balance_after_fen: Mapped[int] = mapped_column(BigInteger)
    value_date: Mapped[date] = mapped_column(Date)
    entry_type: Mapped[str] = mapped_column(String(24))
    period: Mapped[int | None] = mapped_column(Integer)
    memo: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (
        CheckConstraint("side IN ('D', 'C')", name="side"),
        CheckConstraint("amount_fen > 0", name="amount_pos"),
        Index("ix_ledger_posting_account", "account_id", "value_date"),
        Index("ix_ledger_posting_voucher", "voucher_id"),
    )


class Reservation(Base):
    """Money held for a pending decision (two-phase: reserve, then post or release)."""

    __tablename__ = "ledger_reservation"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), default="held")
    reference: Mapped[str] = mapped_column(String(64))
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_voucher.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_pos"),
        CheckConstraint("status IN ('held', 'posted', 'released')", name="status"),
        Index("ix_ledger_reservation_account", "account_id", "status"),
    )
