"""What the console shows of channels and deployments: stored settings over the defaults."""

from sqlalchemy.orm import Session

from hpf.catalog import access, repository
from hpf.catalog import domain as catalog
from hpf.kit.errors import NotFound


def channels(session: Session) -> list[dict]:
    """Every channel with its state, thresholds, rule and default hours."""
    out = []
    for code, name in catalog.CHANNELS.items():
        setting = repository.channel_setting(session, code)
        flow = access.flow_of(setting)
        item = {"channel": code, "name_zh": name,
                "open": setting is None or setting.is_open,
                "closed_by_rule": bool(setting and setting.closed_by_rule),
                "state_reason": setting.state_reason if setting else None,
                "state_changed_at": setting.state_changed_at if setting else None,
                "hours": access.channel_hours(code, setting).describe(),
                **flow.__dict__,
                "auto_close": bool(setting and setting.auto_close)}
        if setting is not None:
            item.update(error_rate_bps=setting.error_rate_bps,
                        error_window_min=setting.error_window_min,
                        error_min_calls=setting.error_min_calls,
                        cooldown_min=setting.cooldown_min)
        out.append(item)
    return out


def deployments(session: Session, service_code: str) -> dict:
    """A service on every channel: offered or not, hours and limits, default or set."""
    service = catalog.get(service_code)
    if service is None:
        raise NotFound("业务不存在", code="UNKNOWN_SERVICE", service=service_code[:48])
    stored = {d.channel: d for d in repository.deployments_of(session, service_code)}
    rows = []
    for code, name in catalog.CHANNELS.items():
        row = stored.get(code)
        setting = repository.channel_setting(session, code)
        rows.append({
            "channel": code, "name_zh": name, "source": "set" if row else "catalogue",
            "enabled": access.offered(service, code, row),
            "hours": access.deployment_hours(code, setting, row).describe(),
            "min_fen": row.min_fen if row else None, "max_fen": row.max_fen if row else None,
            "daily_max_fen": row.daily_max_fen if row else None})
    return {"service": service.code, "name_zh": service.name_zh, "channels": rows}


def channel_events(session: Session, channel: str | None) -> list[dict]:
    """The latest openings and closings of one channel or all."""
    if channel is not None:
        access.require_channel(channel)
    return [{"channel": e.channel, "action": e.action, "by_kind": e.by_kind,
             "by_name": e.by_name, "reason": e.reason, "command_id": e.command_id, "at": e.at}
            for e in repository.channel_events(session, channel)]
