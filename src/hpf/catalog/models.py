"""Catalogue tables: dated parameter values, channels, service deployments, maintenance."""

from datetime import date, datetime, time

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Index, Integer, String, Text, Time, func
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


class ChannelSetting(Base):
    """A channel's state and controls (渠道管理): open or closed, flow thresholds, the automatic
    closing rule and the hours its services keep unless a deployment says otherwise.

    A missing row means the channel's defaults (open, no thresholds, hours.default_hours).
    """

    __tablename__ = "channel_setting"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    closed_by_rule: Mapped[bool] = mapped_column(Boolean, default=False)
    state_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    state_reason: Mapped[str | None] = mapped_column(String(200))
    # Flow thresholds (流量控制): None means no threshold.
    visits_per_s: Mapped[int | None] = mapped_column(Integer)
    visits_per_min: Mapped[int | None] = mapped_column(Integer)
    tx_per_s: Mapped[int | None] = mapped_column(Integer)
    tx_per_min: Mapped[int | None] = mapped_column(Integer)
    # Automatic closing: close when system errors reach error_rate_bps of at least
    # error_min_calls calls over the last error_window_min minutes; reopen after cooldown_min.
    auto_close: Mapped[bool] = mapped_column(Boolean, default=False)
    error_rate_bps: Mapped[int] = mapped_column(Integer, default=5000)
    error_window_min: Mapped[int] = mapped_column(Integer, default=5)
    error_min_calls: Mapped[int] = mapped_column(Integer, default=20)
    cooldown_min: Mapped[int] = mapped_column(Integer, default=10)
    # Default service hours of the channel (hpf.catalog.hours).
    days: Mapped[str] = mapped_column(String(8), default="all")
    opens: Mapped[time | None] = mapped_column(Time)
    closes: Mapped[time | None] = mapped_column(Time)


class ChannelEvent(Base):
    """One opening or closing of a channel, by a staff member or by a rule."""

    __tablename__ = "channel_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(8))  # open | close
    by_kind: Mapped[str] = mapped_column(String(8))  # staff | rule
    by_id: Mapped[int | None] = mapped_column(BigInteger)
    by_name: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200))
    command_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_channel_event_channel", "channel", "id"),)


class Deployment(Base):
    """A service on a channel (服务部署): offered or not, its hours and per-user limits.

    A missing row means the catalogue's default: offered where services.csv lists the channel,
    in the channel's hours, without limits.
    """

    __tablename__ = "service_deployment"

    service_code: Mapped[str] = mapped_column(String(48), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    # Own hours; all three None means the channel's hours.
    days: Mapped[str | None] = mapped_column(String(8))
    opens: Mapped[time | None] = mapped_column(Time)
    closes: Mapped[time | None] = mapped_column(Time)
    # Limits per user (限额控制): one application's minimum and maximum, and a day's total.
    min_fen: Mapped[int | None] = mapped_column(BigInteger)
    max_fen: Mapped[int | None] = mapped_column(BigInteger)
    daily_max_fen: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    command_id: Mapped[int | None] = mapped_column(BigInteger)


class MaintenanceWindow(Base):
    """A planned stop (系统维护): a channel (or all) and a service (or all) between two moments."""

    __tablename__ = "maintenance_window"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str | None] = mapped_column(String(16))
    service_code: Mapped[str | None] = mapped_column(String(48))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(200))
    command_id: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_maintenance_window_ends", "ends_at"),)
