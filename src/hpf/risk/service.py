"""Risk use cases: record signals, assess applications and logins, review alerts.

Alerts are raised inside the transaction of what they concern: a held application and its
alert commit together, and a refused application leaves no alert behind.
"""

import hashlib
import hmac
import json
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.audit import service as audit
from hpf.catalog import params
from hpf.config import get_settings
from hpf.gateway.principal import Principal
from hpf.kit import clock
from hpf.kit.counters import counters_for
from hpf.kit.errors import Conflict, Forbidden, InvalidInput, NotFound, UpstreamUnavailable
from hpf.notices.service import send_sms
from hpf.risk import domain
from hpf.risk.models import RiskAlert, RiskSignal

HOUR_S = 3600
REVIEW_ROLES = ("reviewer", "approver", "admin")


def _subject(value: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, b"risk-subject:" + value.encode(), hashlib.sha256).hexdigest()[:32]


def signal(session: Session, kind: str, *, user_id: int | None = None,
           member_id: int | None = None, channel: str | None = None,
           notify: tuple[str | None, ...] = ()) -> RiskSignal:
    """Record a security change; an account notice (账户变动通知) goes to each given phone."""
    row = RiskSignal(kind=kind, user_id=user_id, member_id=member_id, channel=channel,
                     at=clock.now())
    session.add(row)
    session.flush()
    text = domain.SECURITY_SIGNALS.get(kind)
    if text:
        at = clock.local_now().strftime("%m月%d日%H:%M")
        for phone in dict.fromkeys(p for p in notify if p):
            send_sms(session, phone, f"notice.{kind}",
                     f"{text}（{at}）。如非本人操作，请立即致电12329。")
    return row


def last_signal(session: Session, kind: str, *, user_id: int | None,
                member_id: int | None):
    """When a kind of signal was last recorded for a user or a member (None: never)."""
    if user_id is None and member_id is None:
        return None
    stmt = select(RiskSignal.at).where(RiskSignal.kind == kind)
    if member_id is not None and user_id is not None:
        stmt = stmt.where((RiskSignal.member_id == member_id) | (RiskSignal.user_id == user_id))
    elif member_id is not None:
        stmt = stmt.where(RiskSignal.member_id == member_id)
    else:
        stmt = stmt.where(RiskSignal.user_id == user_id)
    at = session.scalar(stmt.order_by(RiskSignal.at.desc()).limit(1))
    return clock.as_utc(at) if at is not None else None


def _raise(session: Session, finding: domain.Finding, *, user_id=None, member_id=None,
           subject=None, command_id=None, service_code=None, channel=None) -> RiskAlert:
    alert = RiskAlert(
        rule=finding.rule, severity="hold" if finding.hold else "alert", status="open",
        user_id=user_id, member_id=member_id, subject=subject, command_id=command_id,
        service_code=service_code, channel=channel, message=finding.message[:200],
        detail_json=json.dumps(finding.detail, ensure_ascii=False), created_at=clock.now())
    session.add(alert)
    session.flush()
    # No audit record of its own: appending to the chain locks its head, and an alert raised
    # before the business would take that lock ahead of the business's rows (a deadlock with
    # a call holding those rows and waiting for the head). The alert is its own record; a
    # held application's audit record names its holds, and every review is audited.
    return alert


def assess_application(session: Session, principal: Principal, service_code: str,
                       money_out: bool, channel: str, command_id: int, member_id: int | None,
                       ip: str | None) -> list[domain.Finding]:
    """Run the application rules; returns the findings that hold it for review.

    Staff at the counter have seen the person and their papers: their applications are not
    held (the alerts of the person's own channels still are).
    """
    if principal.kind in ("staff", "system"):
        return []
    now = clock.now()
    findings: list[tuple[domain.Finding, str | None]] = []
    member = member_id or principal.member_id
    changed = last_signal(session, "phone_changed", user_id=principal.user_id,
                          member_id=member) if money_out else None
    hit = domain.phone_change_money_out(changed, now,
                                        int(params.get(session, "risk.phone_change_hold_h")),
                                        money_out)
    if hit:
        findings.append((hit, None))
    if ip:
        subject = _subject(f"ip:{ip}")
        store = counters_for(get_settings().redis_url)
        count = store.hit(f"risk-ip:{subject}", HOUR_S).count
        busy = domain.busy_address(count, int(params.get(session, "risk.applications_per_ip_hour")),
                                   money_out)
        # One alert per address and hour for the staff; every money-out one is still held.
        if busy and (busy.hold or _first_this_hour(session, store, busy.rule, subject, now)):
            findings.append((busy, subject))
    holds = []
    for finding, subject in findings:
        _raise(session, finding, user_id=principal.user_id, member_id=member, subject=subject,
               command_id=command_id if finding.hold else None, service_code=service_code,
               channel=channel)
        if finding.hold:
            holds.append(finding)
    return holds


def _first_this_hour(session: Session, store, rule: str, subject: str, now) -> bool:
    """True for the first alert of a rule and subject this hour. The shared once-store answers
    without touching the database (a busy address keeps calling); without it, the alerts."""
    try:
        return store.once(f"risk-alert:{rule}:{subject}", HOUR_S)
    except UpstreamUnavailable:
        return not _recent_open(session, rule, subject, now)


def _recent_open(session: Session, rule: str, subject: str, now) -> bool:
    return session.scalar(select(RiskAlert.id).where(
        RiskAlert.rule == rule, RiskAlert.subject == subject, RiskAlert.status == "open",
        RiskAlert.created_at >= now - timedelta(seconds=HOUR_S)).limit(1)) is not None


def on_login_success(session: Session, *, user_id: int, member_id: int | None,
                     failures_before: int, channel: str, phone: str | None) -> None:
    """After a successful login: alert staff and tell the person when it followed failures."""
    finding = domain.failed_logins_then_success(
        failures_before, int(params.get(session, "risk.failed_logins_alert")))
    if finding is None:
        return
    _raise(session, finding, user_id=user_id, member_id=member_id, channel=channel)
    if phone:
        at = clock.local_now().strftime("%m月%d日%H:%M")
        send_sms(session, phone, "notice.login_after_failures",
                 f"您的账户于{at}在多次密码错误后登录成功。如非本人操作，请立即修改密码或致电12329。")


def on_decision(session: Session, command_id: int, approved: bool, staff: Principal) -> None:
    """A reviewer decided a held application: its hold alerts are cleared or confirmed."""
    rows = session.scalars(select(RiskAlert).where(RiskAlert.command_id == command_id,
                                                   RiskAlert.status == "open")).all()
    for alert in rows:
        alert.status = "cleared" if approved else "confirmed"
        alert.reviewed_at = clock.now()
        alert.reviewed_by = (staff.name or str(staff.user_id))[:64]
    session.flush()


def holds_of(session: Session, command_ids: list[int]) -> dict[int, list[str]]:
    """The open hold messages of pending applications (for the approval queue)."""
    if not command_ids:
        return {}
    out: dict[int, list[str]] = {}
    for cid, message in session.execute(select(RiskAlert.command_id, RiskAlert.message).where(
            RiskAlert.command_id.in_(command_ids), RiskAlert.status == "open")):
        out.setdefault(cid, []).append(message)
    return out


def alerts(session: Session, status: str | None = "open", limit: int = 50,
           before_id: int | None = None) -> list[dict]:
    """Alerts for staff review, newest first (keyset paging by id)."""
    stmt = select(RiskAlert).order_by(RiskAlert.id.desc()).limit(max(1, min(limit, 200)))
    if status:
        stmt = stmt.where(RiskAlert.status == status)
    if before_id:
        stmt = stmt.where(RiskAlert.id < before_id)
    return [_view(a) for a in session.scalars(stmt)]


def _view(a: RiskAlert) -> dict:
    return {"id": a.id, "rule": a.rule, "rule_zh": domain.RULES.get(a.rule, a.rule),
            "severity": a.severity, "status": a.status, "user_id": a.user_id,
            "member_id": a.member_id, "command_id": a.command_id,
            "service_code": a.service_code, "channel": a.channel, "message": a.message,
            "created_at": clock.as_utc(a.created_at).isoformat(),
            "reviewed_by": a.reviewed_by, "review_note": a.review_note}


def review(session: Session, staff: Principal, alert_id: int, confirm: bool,
           note: str) -> dict:
    """Close an alert: confirmed (a real case) or cleared (a false alarm), with a note.

    A hold alert is closed by deciding its application in the approval queue instead.
    """
    if not any(staff.has_role(r) for r in REVIEW_ROLES):
        raise Forbidden("无风险复核权限", code="NOT_A_REVIEWER")
    note = (note or "").strip()
    if not note or len(note) > 300:
        raise InvalidInput("请填写复核意见（300字以内）", code="INVALID_NOTE")
    alert = session.get(RiskAlert, alert_id, with_for_update=True)
    if alert is None:
        raise NotFound("预警不存在", code="NO_ALERT")
    if alert.status != "open":
        raise Conflict("该预警已处理", code="ALERT_CLOSED", state=alert.status)
    if alert.severity == "hold" and alert.command_id is not None:
        raise Conflict("该预警冻结了一笔申请，请在审核队列中处理该申请", code="ALERT_HOLDS_APPLICATION",
                       command_id=alert.command_id)
    alert.status = "confirmed" if confirm else "cleared"
    alert.reviewed_at = clock.now()
    alert.reviewed_by = (staff.name or str(staff.user_id))[:64]
    alert.review_note = note
    session.flush()
    audit.record(session, "risk.review", alert.status, actor_kind=staff.kind,
                 actor_id=staff.user_id, actor_name=staff.name, target=alert.rule,
                 detail={"alert_id": alert.id})
    return _view(alert)
