"""Catalogue tables: dated parameter values."""

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from hpf.kit.db import Base, BigId


class ParamValue(Base):
    """One value of a parameter from an effective date on."""

    __tablename__ = "param_value"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    effective_from: Mapped[date] = mapped_column(Date)
    value_json: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_param_value_key", "key", "effective_from", unique=True),)
