"""The channel controls as every call reads them: channel settings and service deployments,
loaded together and kept for a second per database. (Maintenance windows are read per call:
they depend on the moment, and a snapshot taken at one moment would be wrong for another.)

Every signed request and every gateway call reads these few rows, and staff change them a few
times a day. A change made in this process clears the snapshot at once (hpf.catalog.access
and hpf.catalog.management call `clear`); another process sees it within TTL_S. Writers never
use the snapshot: they lock the row itself (repository.channel_setting(lock=True)).
"""

import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.catalog.models import ChannelSetting, Deployment
from hpf.kit.db import READ_ONLY_OPTION

TTL_S = 1.0


@dataclass(frozen=True)
class Snapshot:
    """Detached copies of the rows, by key."""

    loaded_at: float
    settings: dict[str, ChannelSetting]
    deployments: dict[tuple[str, str], Deployment]


_snapshots: dict[str, Snapshot] = {}
_lock = threading.Lock()


def clear() -> None:
    """Forget every snapshot (a control changed, or a test starts)."""
    with _lock:
        _snapshots.clear()


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
