"""渠道管理: every channel's state, thresholds, closing rule and hours; changes need approval."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response

from hpf.admin import changes, web
from hpf.catalog import domain as catalog
from hpf.catalog import repository
from hpf.catalog.hours import DAYS
from hpf.gateway import manage, registry
from hpf.gateway.principal import Principal
from hpf.kit.errors import NotFound

router = web.console_router()
Viewer = Annotated[Principal, Depends(web.need(*web.page_roles("channels")))]
Operator = Annotated[Principal, Depends(web.need("channel_operator"))]
SETTINGS = ("visits_per_s", "visits_per_min", "tx_per_s", "tx_per_min", "auto_close",
            "error_rate_bps", "error_window_min", "error_min_calls", "cooldown_min", "days",
            "opens", "closes")


def _channel(code: str) -> str:
    if code not in catalog.CHANNELS:
        raise NotFound("渠道不存在", code="UNKNOWN_CHANNEL")
    return code


def _may_change(staff: Principal, code: str) -> bool:
    op = registry.management(code)
    return op is not None and staff.has_role(op.role)


def _list(request: Request, staff: Principal, outcome: changes.Outcome | None = None,
          failed: str | None = None, form: dict | None = None) -> Response:
    factory = web.factory(request)
    return web.render(request, "console/channels.html", {
        "channels": manage.channels_view(factory),
        "events": manage.channel_events_view(factory, None)[:20],
        "may_change": _may_change(staff, "mgmt.channel_state"),
        "submitted": changes.submitted(request), "outcome": outcome, "failed": failed,
        "form": form or {}}, staff=staff, status=outcome.status if outcome else 200)


@router.get("/channels")
def channels(request: Request, staff: Viewer) -> Response:
    """Every channel with its state; open/close buttons for channel operators."""
    return _list(request, staff)


@router.post("/channels/{code}/state")
def change_state(request: Request, code: str, staff: Operator, form: web.Form) -> Response:
    """Submit opening or closing a channel (takes effect when an approver approves)."""
    _channel(code)
    outcome = changes.submit(request, staff, "mgmt.channel_state", form, ("open", "reason"),
                             {"channel": code})
    if outcome.ok:
        return changes.after("/channels", outcome)
    return _list(request, staff, outcome, failed=code, form=form)


def _detail(request: Request, staff: Principal, code: str,
            outcome: changes.Outcome | None = None, form: dict | None = None) -> Response:
    factory = web.factory(request)
    current = next(c for c in manage.channels_view(factory) if c["channel"] == code)
    return web.render(request, "console/channel.html", {
        "channel": current, "events": manage.channel_events_view(factory, code),
        "may_change": _may_change(staff, "mgmt.channel_settings"), "days": DAYS,
        "submitted": changes.submitted(request), "outcome": outcome,
        "form": form if form is not None else _settings_form(request, code)},
        staff=staff, status=outcome.status if outcome else 200)


def _settings_form(request: Request, code: str) -> dict:
    """The channel's stored settings as form values (blank where unset)."""
    with web.factory(request)() as session:
        setting = repository.channel_setting(session, code)
        if setting is None:
            return {"days": "all", "error_rate_bps": "5000", "error_window_min": "5",
                    "error_min_calls": "20", "cooldown_min": "10"}
        values = {name: getattr(setting, name) for name in SETTINGS}
    out = {k: "" if v is None else str(v) for k, v in values.items()}
    out["auto_close"] = "on" if values["auto_close"] else ""
    for name in ("opens", "closes"):
        out[name] = values[name].strftime("%H:%M") if values[name] else ""
    return out


@router.get("/channels/{code}")
def channel(request: Request, code: str, staff: Viewer) -> Response:
    """One channel: thresholds, rule, hours (with a change form) and its history."""
    return _detail(request, staff, _channel(code))


@router.post("/channels/{code}/settings")
def change_settings(request: Request, code: str, staff: Operator, form: web.Form) -> Response:
    """Submit a channel's thresholds, closing rule and hours for approval."""
    _channel(code)
    outcome = changes.submit(request, staff, "mgmt.channel_settings", form, SETTINGS,
                             {"channel": code})
    if outcome.ok:
        return changes.after(f"/channels/{code}", outcome)
    return _detail(request, staff, code, outcome, form)
