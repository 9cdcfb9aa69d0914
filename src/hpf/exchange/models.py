"""Registry tables behind the local adapters: what the centre holds of the shared sources.

A centre loads these from the files its data bureau sends; the demo seed fills them
consistently with its members. The HTTP adapters ask the live source instead.
"""

from datetime import date

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from hpf.kit.db import Base


class RegPerson(Base):
    """Public security identity record (公安身份信息)."""

    __tablename__ = "reg_person"

    id_number: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    gender: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(Date)
    hukou_city: Mapped[str | None] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(8), default="normal")  # normal | deceased


class RegEnterprise(Base):
    """Market regulation record of an organisation (市场监管登记)."""

    __tablename__ = "reg_enterprise"

    uscc: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    legal_rep: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(12), default="active")  # active | deregistered


class RegBankCard(Base):
    """Bank card holder records the commissioned banks share for card verification."""

    __tablename__ = "reg_bank_card"

    card_no: Mapped[str] = mapped_column(String(19), primary_key=True)
    bank_code: Mapped[str] = mapped_column(String(8))
    holder_name: Mapped[str] = mapped_column(String(50))
    holder_id_number: Mapped[str] = mapped_column(String(18))
    status: Mapped[str] = mapped_column(String(12), default="active")  # active | closed
