"""Deposit (归集) tables: employers, members, remittance lists, receipts, transfers, freezes.

Status codes follow JGJ/T 320-2014 (domain-rules §1) so exports can be exchanged.
"""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, validates

from hpf.kit.db import Base, BigId
from hpf.kit.sealed import INDEX_CHARS, Sealed, id_number_index, phone_index

# Member account status (个人账户状态)
M_NORMAL, M_SEALED, M_MERGED, M_TRANSFERRED_OUT, M_WITHDRAWN_CLOSED, M_FROZEN, M_OTHER = (
    "01", "02", "03", "04", "05", "06", "99")
MEMBER_STATUS_ZH = {"01": "正常", "02": "封存", "03": "合并销户", "04": "外部转出销户",
                    "05": "提取销户", "06": "冻结", "99": "其他"}
# Employer status (单位账户状态)
U_NORMAL, U_OPENING, U_DEFERRED, U_CLOSED, U_SEALED, U_OTHER = "01", "02", "03", "04", "05", "99"
EMPLOYER_STATUS_ZH = {"01": "正常", "02": "开户", "03": "缓缴", "04": "销户", "05": "封存",
                      "99": "其他"}
# Remittance list status (清册状态). The batch debit uses `generating` while it writes the
# month's lines and `debited` between the bank debit and the last member being credited.
LIST_STATUSES = {"draft": "待确认", "generating": "批量生成中", "confirmed": "已确认待缴款",
                 "debited": "已扣款待入账", "credited": "已入账", "cancelled": "已作废"}


class Employer(Base):
    """An employer's deposit account (单位缴存账户)."""

    __tablename__ = "dep_employer"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_no: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    kind: Mapped[str] = mapped_column(String(12), default="ordinary")  # ordinary|flexible|custody
    status: Mapped[str] = mapped_column(String(2))
    legal_rep: Mapped[str | None] = mapped_column(String(50))
    contact_name: Mapped[str | None] = mapped_column(String(50))
    # Personal data (a person's mobile), encrypted at rest; nothing looks it up.
    contact_phone: Mapped[str | None] = mapped_column(
        "contact_phone_enc", Sealed("dep_employer.contact_phone"))
    address: Mapped[str | None] = mapped_column(String(200))
    bank_code: Mapped[str] = mapped_column(String(8))
    # The employer's own account the monthly remittance is debited from (自动代扣), if signed.
    debit_account_no: Mapped[str | None] = mapped_column(String(32))
    unit_ratio_bps: Mapped[int] = mapped_column(Integer)
    member_ratio_bps: Mapped[int] = mapped_column(Integer)
    first_month: Mapped[int] = mapped_column(Integer)
    paid_through: Mapped[int | None] = mapped_column(Integer)  # 缴至年月 YYYYMM
    deferred_from: Mapped[int | None] = mapped_column(Integer)
    deferred_until: Mapped[int | None] = mapped_column(Integer)
    suspense_account_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_account.id"))
    registered_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        CheckConstraint("unit_ratio_bps BETWEEN 0 AND 10000", name="unit_ratio"),
        CheckConstraint("member_ratio_bps BETWEEN 0 AND 10000", name="member_ratio"),
    )


class Member(Base):
    """A member's personal deposit account (个人缴存账户); one per person."""

    __tablename__ = "dep_member"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_no: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    id_type: Mapped[str] = mapped_column(String(2), default="01")
    # ID number and phone are encrypted at rest (hpf.kit.sealed); found by their blind
    # indexes, which the validators below keep in step with every assignment.
    id_number: Mapped[str] = mapped_column("id_number_enc", Sealed("dep_member.id_number"))
    id_number_bidx: Mapped[str] = mapped_column(String(INDEX_CHARS), unique=True)
    gender: Mapped[str] = mapped_column(String(1))  # M | F
    birth_date: Mapped[date] = mapped_column(Date)
    # Statutory retirement group (domain-rules §7): M60, F55 or F50.
    retire_group: Mapped[str] = mapped_column(String(3))
    phone: Mapped[str | None] = mapped_column("phone_enc", Sealed("dep_member.phone"))
    phone_bidx: Mapped[str | None] = mapped_column(String(INDEX_CHARS))
    address: Mapped[str | None] = mapped_column(String(200))
    marital_status: Mapped[str | None] = mapped_column(String(2))
    employer_id: Mapped[int] = mapped_column(ForeignKey("dep_employer.id"))
    status: Mapped[str] = mapped_column(String(2))
    base_fen: Mapped[int] = mapped_column(BigInteger)
    unit_ratio_bps: Mapped[int] = mapped_column(Integer)
    member_ratio_bps: Mapped[int] = mapped_column(Integer)
    base_year: Mapped[int | None] = mapped_column(Integer)  # year of the last base adjustment
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"), unique=True)
    opened_on: Mapped[date] = mapped_column(Date)
    first_month: Mapped[int] = mapped_column(Integer)
    sealed_on: Mapped[date | None] = mapped_column(Date)
    seal_reason: Mapped[str | None] = mapped_column(String(100))
    closed_on: Mapped[date | None] = mapped_column(Date)
    retired: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        Index("ix_dep_member_employer", "employer_id", "status"),
        Index("ix_dep_member_phone_bidx", "phone_bidx"),
        CheckConstraint("base_fen >= 0", name="base_nonneg"),
    )

    @validates("id_number")
    def _index_id_number(self, _key: str, value: str) -> str:
        self.id_number_bidx = id_number_index(value)
        return value

    @validates("phone")
    def _index_phone(self, _key: str, value: str | None) -> str | None:
        self.phone_bidx = phone_index(value) if value else None
        return value


class RemitList(Base):
    """A monthly remittance or supplementary list (汇缴/补缴清册) of one employer."""

    __tablename__ = "dep_remit_list"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("dep_employer.id"))
    kind: Mapped[str] = mapped_column(String(12))  # remit | supplement | flexible
    period: Mapped[int] = mapped_column(Integer)  # YYYYMM (first month for a supplement)
    seq: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(12))  # LIST_STATUSES
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    unit_total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    member_total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    reference: Mapped[str] = mapped_column(String(24), unique=True)  # 缴款识别码
    reason: Mapped[str | None] = mapped_column(String(200))
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("dep_receipt.id"))
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_voucher.id"))
    command_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    credited_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        Index("ix_dep_remit_list_period", "employer_id", "kind", "period", "seq", unique=True),
        Index("ix_dep_remit_list_status", "status"),
    )


class RemitLine(Base):
    """One member's line of a list: the base, ratios and both parts, fixed at confirmation.

    Keyed by (month, member, list) with no surrogate id: a month's remittance writes a million
    of these, and every index less is time saved. Month first, so each month's lines are one
    contiguous run of the key (SQLite stores the rows clustered on it): the batch writes them
    in member order at the end of the table and credits them back in member order, and a
    member's history is a handful of seeks by (month, member).

    `member_id` and `account_id` carry no foreign keys. PostgreSQL checks a foreign key row by
    row with a shared lock on the referenced row, which writes to every member page and the
    WAL: half the cost of writing a month's lines. Every writer takes both ids from the
    `dep_member` row in the same statement or transaction, members are never deleted, and
    `ledger.bulk.bulk_credit` refuses any account that is not an open deposit account. The
    key to the list stays: a list's lines are written with it.
    """

    __tablename__ = "dep_remit_line"

    period: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int] = mapped_column(BigId)
    list_id: Mapped[int] = mapped_column(ForeignKey("dep_remit_list.id"))
    account_id: Mapped[int] = mapped_column(BigId)
    base_fen: Mapped[int] = mapped_column(BigInteger)
    unit_ratio_bps: Mapped[int] = mapped_column(Integer)
    member_ratio_bps: Mapped[int] = mapped_column(Integer)
    unit_fen: Mapped[int] = mapped_column(BigInteger)
    member_fen: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        PrimaryKeyConstraint("period", "member_id", "list_id"),
        Index("ix_dep_remit_line_by_list", "list_id"),
        CheckConstraint("amount_fen = unit_fen + member_fen", name="parts"),
        {"sqlite_with_rowid": False},
    )


class RemitRangeTotal(Base):
    """Control totals (批次控制数) of the month's batch: one list's lines in one member range.

    Written by the batch debit when it writes a range's lines, while they are in memory; the
    lists' totals are their sums, and crediting the range must move exactly these amounts out
    of each employer's suspense account.
    """

    __tablename__ = "dep_remit_range_total"

    period: Mapped[int] = mapped_column(Integer)
    range_lo: Mapped[int] = mapped_column(BigId)
    list_id: Mapped[int] = mapped_column(ForeignKey("dep_remit_list.id"))
    line_count: Mapped[int] = mapped_column(Integer)
    unit_fen: Mapped[int] = mapped_column(BigInteger)
    member_fen: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (PrimaryKeyConstraint("period", "range_lo", "list_id"),)


class Receipt(Base):
    """Money that arrived at a commissioned bank for the centre (到账), awaiting matching."""

    __tablename__ = "dep_receipt"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    bank_code: Mapped[str] = mapped_column(String(8))
    bank_txn_id: Mapped[str] = mapped_column(String(40), unique=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    payer_name: Mapped[str] = mapped_column(String(100))
    payer_account: Mapped[str | None] = mapped_column(String(40))
    reference: Mapped[str | None] = mapped_column(String(40))
    arrived_on: Mapped[date] = mapped_column(Date)
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("dep_employer.id"))
    status: Mapped[str] = mapped_column(String(12))  # suspense | matched | refunded
    suspense_account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"))
    receipt_voucher_id: Mapped[int] = mapped_column(ForeignKey("ledger_voucher.id"))
    matched_list_id: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_pos"),
        Index("ix_dep_receipt_status", "status", "employer_id"),
    )


class FlexibleAgreement(Base):
    """A voluntary depositor's direct-debit agreement (灵活就业人员缴存协议)."""

    __tablename__ = "dep_flexible_agreement"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("dep_member.id"))
    bank_code: Mapped[str] = mapped_column(String(8))
    # The depositor's own bank card: encrypted at rest, shown as 6222****1234.
    card_no: Mapped[str] = mapped_column("card_no_enc", Sealed("dep_flexible_agreement.card_no"))
    base_fen: Mapped[int] = mapped_column(BigInteger)
    ratio_bps: Mapped[int] = mapped_column(Integer)  # both parts together
    monthly_fen: Mapped[int] = mapped_column(BigInteger)
    debit_day: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))  # active | terminated
    signed_on: Mapped[date] = mapped_column(Date)
    terminated_on: Mapped[date | None] = mapped_column(Date)
    paid_through: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_dep_flexible_member", "member_id", "status"),)


class RemoteTransfer(Base):
    """An inter-city transfer (异地转移接续), in or out, with its contact letter."""

    __tablename__ = "dep_remote_transfer"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    member_id: Mapped[int] = mapped_column(ForeignKey("dep_member.id"))
    other_centre: Mapped[str] = mapped_column(String(100))
    other_account_no: Mapped[str | None] = mapped_column(String(40))
    letter_no: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    history_json: Mapped[str | None] = mapped_column(Text)
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("dep_receipt.id"))
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_voucher.id"))
    command_id: Mapped[int | None] = mapped_column(BigInteger)
    created_on: Mapped[date] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)


class Freeze(Base):
    """A judicial freeze (司法冻结) of a member account."""

    __tablename__ = "dep_freeze"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("dep_member.id"))
    authority: Mapped[str] = mapped_column(String(100))
    document_no: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    reservation_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_reservation.id"))
    prior_status: Mapped[str] = mapped_column(String(2))
    frozen_on: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    unfrozen_on: Mapped[date | None] = mapped_column(Date)
    unfreeze_document_no: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10))  # active | lifted

    __table_args__ = (Index("ix_dep_freeze_member", "member_id", "status"),)
