"""Management changes (管理变更) of channels, service deployments and parameters, with two pairs
of eyes.

Each change is a stored command (hpf.gateway.manage submits it): one staff member makes it,
another approves it, and only then do these handlers apply it. Every value is checked when
the change is submitted, so an approval never meets a value it cannot apply, and a change
either applies whole or not at all.
"""

from datetime import date, datetime, time, timedelta
from typing import Literal

from pydantic import Field, model_validator

from hpf.catalog import access, params, repository, snapshot
from hpf.catalog import domain as catalog
from hpf.catalog.hours import DAYS
from hpf.catalog.models import Deployment, MaintenanceWindow
from hpf.gateway.registry import Ctx, Params, register_management
from hpf.kit import clock
from hpf.kit.errors import Conflict

MAX_FEN = 10**13  # a hundred billion yuan: past any single application
MAX_RATE = 1_000_000
MAX_MAINTENANCE = timedelta(days=7)

ChannelCode = Literal[tuple(catalog.CHANNELS)]  # type: ignore[valid-type]


def _hours_ok(days: str | None, opens: time | None, closes: time | None, *, own: bool) -> None:
    if days is None:
        if own and (opens is not None or closes is not None):
            raise ValueError("给出服务时段时须同时给出服务日（days）")
        return
    if days not in DAYS:
        raise ValueError("服务日只能是 all（每天）或 workdays（工作日）")
    if (opens is None) != (closes is None):
        raise ValueError("开始时间与结束时间须同时给出")
    if opens is not None and opens == closes:
        raise ValueError("开始时间与结束时间不能相同")


class ChannelState(Params):
    """Open or close a channel (渠道启停)."""

    channel: ChannelCode
    open: bool
    reason: str = Field(min_length=2, max_length=200)


class ChannelSettings(Params):
    """A channel's flow thresholds, automatic closing rule and default hours."""

    channel: ChannelCode
    visits_per_s: int | None = Field(default=None, ge=1, le=MAX_RATE)
    visits_per_min: int | None = Field(default=None, ge=1, le=60 * MAX_RATE)
    tx_per_s: int | None = Field(default=None, ge=1, le=MAX_RATE)
    tx_per_min: int | None = Field(default=None, ge=1, le=60 * MAX_RATE)
    auto_close: bool = False
    error_rate_bps: int = Field(default=5000, ge=1, le=10_000)
    error_window_min: int = Field(default=5, ge=1, le=60)
    error_min_calls: int = Field(default=20, ge=1, le=1_000_000)
    cooldown_min: int = Field(default=10, ge=1, le=1440)
    days: str = "all"
    opens: time | None = None
    closes: time | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "ChannelSettings":
        _hours_ok(self.days, self.opens, self.closes, own=False)
        for per_s, per_min in ((self.visits_per_s, self.visits_per_min),
                               (self.tx_per_s, self.tx_per_min)):
            if per_s is not None and per_min is not None and per_min < per_s:
                raise ValueError("每分钟阈值不能小于每秒阈值")
        return self


class DeploymentChange(Params):
    """Offer or withdraw a service on a channel, with its own hours and per-user limits."""

    service: str = Field(min_length=3, max_length=48)
    channel: ChannelCode
    enabled: bool
    days: str | None = None
    opens: time | None = None
    closes: time | None = None
    min_fen: int | None = Field(default=None, ge=1, le=MAX_FEN)
    max_fen: int | None = Field(default=None, ge=1, le=MAX_FEN)
    daily_max_fen: int | None = Field(default=None, ge=1, le=MAX_FEN)

    @model_validator(mode="after")
    def _consistent(self) -> "DeploymentChange":
        if catalog.get(self.service) is None:
            raise ValueError(f"目录中没有业务 {self.service}")
        _hours_ok(self.days, self.opens, self.closes, own=True)
        if self.min_fen is not None and self.max_fen is not None and self.min_fen > self.max_fen:
            raise ValueError("单笔最低限额不能高于单笔最高限额")
        if self.max_fen is not None and self.daily_max_fen is not None \
                and self.daily_max_fen < self.max_fen:
            raise ValueError("当日累计限额不能低于单笔最高限额")
        return self


class Maintenance(Params):
    """Plan a maintenance window (系统维护) for a channel or all, a service or all."""

    channel: ChannelCode | None = None
    service: str | None = Field(default=None, min_length=3, max_length=48)
    starts_at: datetime
    ends_at: datetime
    reason: str = Field(min_length=2, max_length=200)

    @model_validator(mode="after")
    def _consistent(self) -> "Maintenance":
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("时间须带时区，例如 2026-11-23T22:00:00+08:00")
        if self.service is not None and catalog.get(self.service) is None:
            raise ValueError(f"目录中没有业务 {self.service}")
        if not self.starts_at < self.ends_at:
            raise ValueError("结束时间须晚于开始时间")
        if self.ends_at - self.starts_at > MAX_MAINTENANCE:
            raise ValueError("一次维护不能超过7天")
        if self.ends_at <= clock.now():
            raise ValueError("结束时间已过")
        return self


class ParamChange(Params):
    """Give a parameter a new value from a date on (参数调整); history stays."""

    key: str = Field(min_length=3, max_length=64)
    effective_from: date
    value: bool | int | str
    reason: str = Field(min_length=2, max_length=200)

    @model_validator(mode="after")
    def _consistent(self) -> "ParamChange":
        # A value already in force explains past calculations: changes start today or later.
        if self.effective_from < clock.today():
            raise ValueError("生效日期不能早于今天")
        if self.effective_from > clock.today() + timedelta(days=366):
            raise ValueError("生效日期不能晚于一年以后")
        self.value = params.check_value(self.key, self.value)
        return self


def _param(ctx: Ctx, p: ParamChange) -> dict:
    if any(since == p.effective_from for since, _ in params.history(ctx.session, p.key)):
        raise Conflict("该参数在这一天已有取值，请另选生效日期", code="PARAM_DATE_TAKEN",
                       key=p.key, effective_from=p.effective_from.isoformat())
    params.set_value(ctx.session, p.key, p.effective_from, p.value,
                     created_by=ctx.principal.user_id)
    return {"key": p.key, "effective_from": p.effective_from.isoformat(), "value": p.value}


def _channel_state(ctx: Ctx, p: ChannelState) -> dict:
    setting = access.setting_for_update(ctx.session, p.channel)
    if setting.is_open != p.open:
        access.set_state(ctx.session, setting, p.open, by_kind="staff",
                         by_id=ctx.principal.user_id, by_name=ctx.principal.name or "",
                         reason=p.reason, command_id=ctx.command_id)
    return {"channel": p.channel, "open": setting.is_open}


def _channel_settings(ctx: Ctx, p: ChannelSettings) -> dict:
    snapshot.clear()  # this process sees the change at once, others within a second
    setting = access.setting_for_update(ctx.session, p.channel)
    for name, value in p.model_dump(exclude={"channel"}).items():
        setattr(setting, name, value)
    ctx.session.flush()
    return {"channel": p.channel, **p.model_dump(mode="json", exclude={"channel"})}


def _deployment(ctx: Ctx, p: DeploymentChange) -> dict:
    snapshot.clear()  # this process sees the change at once, others within a second
    row = repository.deployment(ctx.session, p.service, p.channel)
    if row is None:
        row = Deployment(service_code=p.service, channel=p.channel)
        ctx.session.add(row)
    for name in ("enabled", "days", "opens", "closes", "min_fen", "max_fen", "daily_max_fen"):
        setattr(row, name, getattr(p, name))
    row.updated_at = clock.now()
    row.command_id = ctx.command_id
    ctx.session.flush()
    return p.model_dump(mode="json")


def _maintenance(ctx: Ctx, p: Maintenance) -> dict:
    snapshot.clear()  # this process sees the window at once, others within a second
    window = MaintenanceWindow(channel=p.channel, service_code=p.service,
                               starts_at=p.starts_at.astimezone(clock.now().tzinfo),
                               ends_at=p.ends_at.astimezone(clock.now().tzinfo),
                               reason=p.reason, command_id=ctx.command_id)
    ctx.session.add(window)
    ctx.session.flush()
    return {"maintenance_id": window.id, **p.model_dump(mode="json")}


register_management("mgmt.channel_state", "渠道启停", "channel_operator", ChannelState,
                    _channel_state, target=lambda p: f"channel:{p.channel}")
register_management("mgmt.channel_settings", "渠道流量与规则设置", "channel_operator",
                    ChannelSettings, _channel_settings, target=lambda p: f"channel:{p.channel}")
register_management("mgmt.deployment", "业务部署与限额设置", "channel_operator", DeploymentChange,
                    _deployment, target=lambda p: f"deploy:{p.service}:{p.channel}")
register_management("mgmt.maintenance", "系统维护计划", "channel_operator", Maintenance,
                    _maintenance, target=lambda p: None)
register_management("mgmt.param", "参数调整", "admin", ParamChange, _param,
                    target=lambda p: f"param:{p.key}")
