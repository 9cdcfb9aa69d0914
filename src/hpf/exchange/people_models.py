"""Registry tables of the people-side shared sources: civil affairs (民政), social security
(人社) and the central bank's credit reference (征信).

Like reg_person they mirror what the sources hold, in plain text: a centre loads them from the
files its data bureau sends (`hpf registry load`), the demo seed fills them from its members.
Every table is found by ID number, so each has an index on it.
"""

from datetime import date

from sqlalchemy import BigInteger, CheckConstraint, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hpf.kit.db import Base, BigId


class RegMarriage(Base):
    """A marriage registration (婚姻登记); a divorce fills divorced_on and ends it."""

    __tablename__ = "reg_marriage"

    record_no: Mapped[str] = mapped_column(String(32), primary_key=True)  # 结婚证字号
    party_a_id_number: Mapped[str] = mapped_column(String(18), index=True)
    party_a_name: Mapped[str] = mapped_column(String(50))
    party_b_id_number: Mapped[str] = mapped_column(String(18), index=True)
    party_b_name: Mapped[str] = mapped_column(String(50))
    married_on: Mapped[date] = mapped_column(Date)
    divorced_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        CheckConstraint("party_a_id_number <> party_b_id_number", name="two_people"),
        CheckConstraint("divorced_on IS NULL OR divorced_on >= married_on", name="dates"),
    )


class RegLowIncome(Base):
    """A minimum living allowance certificate (最低生活保障, 低保)."""

    __tablename__ = "reg_low_income"

    certificate_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(50))
    since: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8))  # active | ended

    __table_args__ = (
        CheckConstraint("status IN ('active', 'ended')", name="status"),
        CheckConstraint("until IS NULL OR until >= since", name="dates"),
        # An ended allowance says when it ended.
        CheckConstraint("status = 'active' OR until IS NOT NULL", name="ended_until"),
    )


class RegRetirement(Base):
    """A retirement approval (退休审批); one per person."""

    __tablename__ = "reg_retirement"

    id_number: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    approval_no: Mapped[str] = mapped_column(String(32))
    retired_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(12))  # normal | early | disability

    __table_args__ = (
        CheckConstraint("kind IN ('normal', 'early', 'disability')", name="kind"),
    )


class RegUnemployment(Base):
    """An unemployment registration (失业登记)."""

    __tablename__ = "reg_unemployment"

    registration_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(50))
    registered_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    receiving_benefit: Mapped[bool] = mapped_column(default=False)  # 领取失业保险金

    __table_args__ = (
        CheckConstraint("ended_on IS NULL OR ended_on >= registered_on", name="dates"),
    )


class RegDisability(Base):
    """A loss of working capacity assessment (劳动能力鉴定), level 1 (worst) to 10."""

    __tablename__ = "reg_disability"

    assessment_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(50))
    level: Mapped[int] = mapped_column(Integer)
    assessed_on: Mapped[date] = mapped_column(Date)
    labour_ended_on: Mapped[date | None] = mapped_column(Date)  # 解除劳动关系

    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 10", name="level"),
    )


class RegSeriousIllness(Base):
    """A medical insurance record of a serious illness (重大疾病医保结算)."""

    __tablename__ = "reg_serious_illness"

    record_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(50))
    diagnosis: Mapped[str] = mapped_column(String(100))
    hospital: Mapped[str] = mapped_column(String(100))
    out_of_pocket_fen: Mapped[int] = mapped_column(BigInteger)  # 个人自付
    from_date: Mapped[date] = mapped_column(Date)
    to_date: Mapped[date] = mapped_column(Date)

    __table_args__ = (
        CheckConstraint("out_of_pocket_fen >= 0", name="amount"),
        CheckConstraint("to_date >= from_date", name="dates"),
    )


class RegHousingLoan(Base):
    """A housing loan in the credit reference (征信), one row per borrower of a contract.

    A couple's loan shows on both their reports: the borrower's row and the co-borrower's.
    The amounts are as of reported_on (the report's data date).
    """

    __tablename__ = "reg_housing_loan"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contract_no: Mapped[str] = mapped_column(String(40))
    id_number: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(12))  # borrower | co_borrower
    lender: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(12))  # commercial | fund | portfolio
    property_address: Mapped[str] = mapped_column(String(200))
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    term_months: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date] = mapped_column(Date)
    outstanding_fen: Mapped[int] = mapped_column(BigInteger)
    repaid_12m_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(8))  # normal | overdue | settled
    reported_on: Mapped[date] = mapped_column(Date)

    __table_args__ = (
        Index("ix_reg_housing_loan_id_number", "id_number"),
        Index("ix_reg_housing_loan_contract", "contract_no", "id_number", unique=True),
        CheckConstraint("role IN ('borrower', 'co_borrower')", name="role"),
        CheckConstraint("kind IN ('commercial', 'fund', 'portfolio')", name="kind"),
        CheckConstraint("status IN ('normal', 'overdue', 'settled')", name="status"),
        CheckConstraint("principal_fen > 0 AND outstanding_fen >= 0 AND repaid_12m_fen >= 0 "
                        "AND outstanding_fen <= principal_fen", name="amounts"),
        CheckConstraint("term_months BETWEEN 1 AND 600", name="term"),
    )
