"""Channel access (接入管理): is a channel open, is a service offered on it, and is it inside its
service hours and outside maintenance. The gateway asks this before anything else.

Channel state changes here are the effects of management commands (made by one staff member,
approved by another, see hpf.gateway.manage) or of the automatic rule, which closes a channel
whose system error rate passes its threshold and reopens it after a cool-down. The rule is
evaluated lazily, on the calls themselves, so it needs no scheduler.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from hpf.audit import service as audit
from hpf.catalog import domain as catalog
from hpf.catalog import hours as hours_rules
from hpf.catalog import repository, snapshot
from hpf.catalog.models import ChannelEvent, ChannelSetting, Deployment
from hpf.kit import clock, workdays
from hpf.kit.errors import Forbidden, InvalidInput


class ChannelClosed(Forbidden):
    code = "CHANNEL_CLOSED"
    message = "该渠道暂停服务"


class NotOnChannel(Forbidden):
    code = "SERVICE_NOT_ON_CHANNEL"
    message = "该业务不在此渠道提供"


class OutsideHours(Forbidden):
    code = "OUTSIDE_SERVICE_HOURS"
    message = "当前不在服务时间内"


class UnderMaintenance(Forbidden):
    code = "UNDER_MAINTENANCE"
    message = "系统维护中，请稍后再试"


@dataclass(frozen=True)
class Limits:
    """Per-user limits of a service on a channel (None: no limit)."""

    min_fen: int | None = None
    max_fen: int | None = None
    daily_max_fen: int | None = None


@dataclass(frozen=True)
class Flow:
    """A channel's flow thresholds (None: no threshold)."""

    visits_per_s: int | None = None
    visits_per_min: int | None = None
    tx_per_s: int | None = None
    tx_per_min: int | None = None


def require_channel(code: str) -> str:
    """The code of a known channel (UNKNOWN_CHANNEL otherwise)."""
    if code not in catalog.CHANNELS:
        raise InvalidInput("未知的服务渠道", code="UNKNOWN_CHANNEL", channel=str(code)[:32])
    return code


def flow_of(setting: ChannelSetting | None) -> Flow:
    """The thresholds of a channel's setting."""
    if setting is None:
        return Flow()
    return Flow(setting.visits_per_s, setting.visits_per_min, setting.tx_per_s,
                setting.tx_per_min)


def channel_hours(channel: str, setting: ChannelSetting | None) -> hours_rules.Hours:
    """The hours a channel's services keep by default."""
    if setting is None:
        return hours_rules.default_hours(channel)
    return hours_rules.Hours(setting.days, setting.opens, setting.closes)


def deployment_hours(channel: str, setting: ChannelSetting | None,
                     deployment: Deployment | None) -> hours_rules.Hours:
    """A service's hours on a channel: its own, or the channel's."""
    if deployment is not None and deployment.days is not None:
        return hours_rules.Hours(deployment.days, deployment.opens, deployment.closes)
    return channel_hours(channel, setting)


def offered(service: catalog.Service, channel: str, deployment: Deployment | None, *,
            staff_at_counter: bool = False) -> bool:
    """Whether the service is enabled on the channel (a stored deployment over the default).

    By default the counter, the centre's own desk, handles every service for its staff.
    """
    if deployment is not None:
        return deployment.enabled
    return channel in service.channels or staff_at_counter


class ReopenDue(Exception):
    """A read-only check met a channel its rule must reopen now: redo it in a writing
    transaction (hpf.gateway.clients.admit_request)."""


def ensure_open(session: Session, channel: str, *, may_write: bool = True
                ) -> ChannelSetting | None:
    """The channel's setting if it is open (reopening it when its cool-down has passed; in a
    read-only transaction, `may_write=False`, that raises ReopenDue instead)."""
    setting = snapshot.channel_setting(session, channel)
    if setting is None or setting.is_open:
        return setting
    now = clock.now()
    if setting.closed_by_rule and setting.state_changed_at is not None and \
            _aware(setting.state_changed_at) + timedelta(minutes=setting.cooldown_min) <= now:
        if not may_write:
            raise ReopenDue(channel)
        setting = repository.channel_setting(session, channel, lock=True)
        if not setting.is_open:
            set_state(session, setting, True, by_kind="rule", by_id=None, by_name="自动恢复规则",
                      reason=f"暂停{setting.cooldown_min}分钟后自动恢复")
        return setting
    name = catalog.CHANNELS[channel]
    reason = f"：{setting.state_reason}" if setting.state_reason else ""
    raise ChannelClosed(f"{name}暂停服务{reason}", channel=channel)


def check(session: Session, service: catalog.Service, channel: str, *,
          staff_at_counter: bool = False, may_write: bool = True) -> tuple[Flow, Limits]:
    """Refuse a call the channel cannot take now; else the channel's flow thresholds and the
    service's limits there (`may_write`: see ensure_open)."""
    setting = ensure_open(session, channel, may_write=may_write)
    deployment = snapshot.deployment(session, service.code, channel)
    channel_name = catalog.CHANNELS[channel]
    if not offered(service, channel, deployment, staff_at_counter=staff_at_counter):
        raise NotOnChannel(f"「{service.name_zh}」不在{channel_name}提供",
                           service=service.code, channel=channel)
    now = clock.now()
    window = snapshot.maintenance_at(session, channel, service.code, now)
    if window is not None:
        until = _aware(window.ends_at).astimezone(clock.LOCAL_TZ)
        raise UnderMaintenance(f"系统维护中（{window.reason}），预计{until:%m月%d日 %H:%M}恢复",
                               until=until.isoformat(timespec="minutes"))
    hours = deployment_hours(channel, setting, deployment)
    local = now.astimezone(clock.LOCAL_TZ)
    if not hours_rules.within(hours, local, workdays.is_workday(local.date()),
                              workdays.is_workday(local.date() - timedelta(days=1))):
        raise OutsideHours(f"「{service.name_zh}」在{channel_name}的服务时间为{hours.describe()}",
                           hours=hours.describe())
    limits = Limits() if deployment is None else Limits(
        deployment.min_fen, deployment.max_fen, deployment.daily_max_fen)
    return flow_of(setting), limits


def setting_for_update(session: Session, channel: str) -> ChannelSetting:
    """The channel's setting row, locked, created from the defaults when missing."""
    setting = repository.channel_setting(session, channel, lock=True)
    if setting is None:
        days, opens, closes = hours_rules.CHANNEL_DEFAULT_HOURS.get(
            channel, hours_rules.ROUND_THE_CLOCK)
        setting = ChannelSetting(code=channel, is_open=True, closed_by_rule=False, days=days,
                                 opens=opens, closes=closes, auto_close=False,
                                 error_rate_bps=5000, error_window_min=5, error_min_calls=20,
                                 cooldown_min=10)
        session.add(setting)
        session.flush()
    return setting


def set_state(session: Session, setting: ChannelSetting, is_open: bool, *, by_kind: str,
              by_id: int | None, by_name: str, reason: str,
              command_id: int | None = None) -> ChannelEvent:
    """Open or close a channel and record who or which rule did it."""
    snapshot.clear()
    now = clock.now()
    setting.is_open = is_open
    setting.closed_by_rule = (not is_open) and by_kind == "rule"
    setting.state_changed_at = now
    setting.state_reason = None if is_open else reason[:200]
    event = ChannelEvent(channel=setting.code, action="open" if is_open else "close",
                         by_kind=by_kind, by_id=by_id, by_name=by_name[:64], reason=reason[:200],
                         command_id=command_id, at=now)
    session.add(event)
    session.flush()
    audit.record(session, f"channel.{event.action}", "succeeded",
                 actor_kind="staff" if by_kind == "staff" else "system", actor_id=by_id,
                 actor_name=by_name, channel=setting.code, target=setting.code,
                 command_id=command_id, detail={"reason": reason})
    return event


def error_rule_tripped(setting: ChannelSetting, calls: int, errors: int) -> bool:
    """Whether a window's calls and system errors close the channel under its rule."""
    return (setting.auto_close and setting.is_open and calls >= setting.error_min_calls
            and errors * 10_000 >= setting.error_rate_bps * calls)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back the stored UTC moment without its zone.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
