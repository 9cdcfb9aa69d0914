"""Queries of the catalogue's management tables: channels, deployments, maintenance windows."""

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hpf.catalog.models import ChannelEvent, ChannelSetting, Deployment, MaintenanceWindow

MAX_EVENTS = 200


def channel_setting(session: Session, code: str, *, lock: bool = False) -> ChannelSetting | None:
    """A channel's stored setting, or None (defaults)."""
    stmt = select(ChannelSetting).where(ChannelSetting.code == code)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def deployment(session: Session, service_code: str, channel: str) -> Deployment | None:
    """A service's stored deployment on a channel, or None (catalogue default)."""
    return session.get(Deployment, (service_code, channel))


def deployments_of(session: Session, service_code: str) -> list[Deployment]:
    """Every stored deployment of a service."""
    return list(session.scalars(select(Deployment).where(Deployment.service_code == service_code)))


def maintenance_at(session: Session, channel: str, service_code: str,
                   at: datetime) -> MaintenanceWindow | None:
    """A maintenance window covering the channel and service at a moment, if any."""
    return session.scalars(
        select(MaintenanceWindow).where(
            MaintenanceWindow.starts_at <= at, MaintenanceWindow.ends_at > at,
            or_(MaintenanceWindow.channel.is_(None), MaintenanceWindow.channel == channel),
            or_(MaintenanceWindow.service_code.is_(None),
                MaintenanceWindow.service_code == service_code),
        ).order_by(MaintenanceWindow.ends_at.desc()).limit(1)
    ).first()


def maintenance_windows(session: Session, since: datetime) -> list[MaintenanceWindow]:
    """Windows that end after a moment (current and planned), soonest first."""
    return list(session.scalars(select(MaintenanceWindow).where(MaintenanceWindow.ends_at > since)
                                .order_by(MaintenanceWindow.starts_at).limit(MAX_EVENTS)))


def channel_events(session: Session, channel: str | None, limit: int = 50) -> list[ChannelEvent]:
    """The latest openings and closings, newest first."""
    stmt = select(ChannelEvent).order_by(ChannelEvent.id.desc()).limit(min(limit, MAX_EVENTS))
    if channel is not None:
        stmt = stmt.where(ChannelEvent.channel == channel)
    return list(session.scalars(stmt))
