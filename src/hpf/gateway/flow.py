"""Flow control (流量控制) and the channel error-rate rule, on shared counters.

Visits (every request a channel sends) and business transactions (every service call) are
counted per channel in fixed one-second and one-minute windows; past a threshold the caller
gets 429 with Retry-After until the window ends. With HPF_REDIS_URL set the counters live in
Redis, so the thresholds hold across every app process; otherwise in this process.

Each call's outcome is counted per minute too. A system error (a failure that is not a
refusal) may close the channel under its automatic rule (hpf.catalog.access).
"""

import structlog
from sqlalchemy.orm import Session, sessionmaker

from hpf.catalog import access, snapshot
from hpf.catalog import repository as catalog_repository
from hpf.config import get_settings
from hpf.kit.counters import Counters, counters_for
from hpf.kit.errors import TooManyRequests

log = structlog.get_logger(__name__)

MINUTE_S = 60
# Outcome windows are kept an hour: the longest error window a channel can be given.
OUTCOME_KEEP_MIN = 60


def counters() -> Counters:
    """The counters of this deployment (Redis when configured)."""
    return counters_for(get_settings().redis_url)


def admit(channel: str, kind: str, per_s: int | None, per_min: int | None) -> None:
    """Count one visit or transaction; refuse it with 429 past a threshold."""
    c = counters()
    for window_s, limit in ((1, per_s), (MINUTE_S, per_min)):
        if limit is None:
            continue
        hit = c.hit(f"flow:{channel}:{kind}:{window_s}", window_s)
        if hit.count > limit:
            raise TooManyRequests(retry_after_s=hit.retry_after_s, channel=channel)


def visit(session: Session, channel: str) -> None:
    """Admit one request of a channel under its visit thresholds."""
    flow = access.flow_of(snapshot.channel_setting(session, channel))
    admit(channel, "visit", flow.visits_per_s, flow.visits_per_min)


def record_outcome(factory: sessionmaker[Session], channel: str, system_error: bool) -> None:
    """Count a call's outcome; after a system error, apply the channel's closing rule."""
    c = counters()
    c.hit(f"calls:{channel}", MINUTE_S, keep_windows=OUTCOME_KEEP_MIN + 1)
    if not system_error:
        return
    c.hit(f"errors:{channel}", MINUTE_S, keep_windows=OUTCOME_KEEP_MIN + 1)
    try:
        _apply_error_rule(factory, channel, c)
    except Exception as exc:  # the rule must never turn a call's answer into another error
        log.warning("channel rule failed", channel=channel, error=repr(exc))


def _apply_error_rule(factory: sessionmaker[Session], channel: str, c: Counters) -> None:
    with factory() as session, session.begin():
        setting = catalog_repository.channel_setting(session, channel)
        if setting is None or not setting.auto_close or not setting.is_open:
            return
        window = min(setting.error_window_min, OUTCOME_KEEP_MIN)
        calls = c.total(f"calls:{channel}", MINUTE_S, window)
        errors = c.total(f"errors:{channel}", MINUTE_S, window)
        if not access.error_rule_tripped(setting, calls, errors):
            return
        setting = catalog_repository.channel_setting(session, channel, lock=True)
        if not setting.is_open:
            return
        reason = (f"近{window}分钟{calls}笔调用中{errors}笔系统错误，"
                  f"超过{setting.error_rate_bps / 100:g}%")
        access.set_state(session, setting, False, by_kind="rule", by_id=None,
                         by_name="错误率规则", reason=reason)
        log.warning("channel closed by rule", channel=channel, calls=calls, errors=errors)
