"""The channel controls as every call reads them: channel settings and service deployments,
loaded together and kept for a second per database, and the maintenance windows overlapping
the current minute (kept per minute, so a clock that jumps, as tests move it, never reads
another minute's windows).

Every signed request and every gateway call reads these few rows, and staff change them a few
times a day. A change made in this process clears the snapshot at once (hpf.catalog.access
and hpf.catalog.management call `clear`); another process sees it within TTL_S. Writers never
use the snapshot: they lock the row itself (repository.channel_setting(lock=True)).
"""

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.catalog.models import ChannelSetting, Deployment, MaintenanceWindow
from hpf.kit import clock
from hpf.kit.db import READ_ONLY_OPTION

TTL_S = 1.0


@dataclass(frozen=True)
class Snapshot:
    """Detached copies of the rows, by key."""

    loaded_at: float
    settings: dict[str, ChannelSetting]
    deployments: dict[tuple[str, str], Deployment]


_snapshots: dict[str, Snapshot] = {}
_windows: dict[tuple[str, int], tuple[float, tuple[MaintenanceWindow, ...]]] = {}
_lock = threading.Lock()
MINUTE_S = 60
MAX_MINUTES = 1000


def clear() -> None:
    """Forget every snapshot (a control changed, or a test starts)."""
    with _lock:
        _snapshots.clear()
        _windows.clear()


def current(session: Session) -> Snapshot:
    """The snapshot of the session's database, reloaded when older than TTL_S."""
    key = str(session.get_bind().url)
    now = time.monotonic()
    snap = _snapshots.get(key)
    if snap is not None and now - snap.loaded_at < TTL_S:
        return snap
    # Its own short read on its own connection: the caller's session keeps its identity map
    # (rows it is changing are not detached under it) and the copies hold committed values.
    with Session(session.get_bind(), expire_on_commit=False) as own:
        own.connection(execution_options={READ_ONLY_OPTION: True})
        settings = list(own.scalars(select(ChannelSetting)))
        deployments = list(own.scalars(select(Deployment)))
        own.commit()
    snap = Snapshot(now, {s.code: s for s in settings},
                    {(d.service_code, d.channel): d for d in deployments})
    with _lock:
        _snapshots[key] = snap
    return snap


def channel_setting(session: Session, channel: str) -> ChannelSetting | None:
    """A channel's setting as of the snapshot (None: defaults)."""
    return current(session).settings.get(channel)


def deployment(session: Session, service_code: str, channel: str) -> Deployment | None:
    """A service's deployment on a channel as of the snapshot (None: catalogue default)."""
    return current(session).deployments.get((service_code, channel))


def maintenance_at(session: Session, channel: str, service_code: str,
                   at: datetime) -> MaintenanceWindow | None:
    """The maintenance window covering the channel and service at a moment (the one ending
    last), from the windows of that minute."""
    minute = int(at.timestamp() // MINUTE_S)
    key = (str(session.get_bind().url), minute)
    now = time.monotonic()
    hit = _windows.get(key)
    if hit is None or now - hit[0] >= TTL_S:
        start = datetime.fromtimestamp(minute * MINUTE_S, UTC)
        end = start + timedelta(seconds=MINUTE_S)
        with Session(session.get_bind(), expire_on_commit=False) as own:
            own.connection(execution_options={READ_ONLY_OPTION: True})
            rows = tuple(own.scalars(select(MaintenanceWindow).where(
                MaintenanceWindow.starts_at < end, MaintenanceWindow.ends_at > start)))
            own.commit()
        hit = (now, rows)
        with _lock:
            if len(_windows) >= MAX_MINUTES:
                _windows.clear()
            _windows[key] = hit
    found = [w for w in hit[1]
             if clock.as_utc(w.starts_at) <= at < clock.as_utc(w.ends_at)
             and w.channel in (None, channel) and w.service_code in (None, service_code)]
    return max(found, key=lambda w: clock.as_utc(w.ends_at)) if found else None
