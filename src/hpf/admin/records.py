"""Read-only records for staff: accounts (用户), the login log, the audit trail, the SMS outbox.

ID numbers and phones are masked (hpf.kit.ids) except where the role needs them: the SMS
outbox shows full phones and message text to administrators only, since a message may carry
a one-time code or an initial password.
"""

import re
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from hpf.admin import web
from hpf.audit import search as audit_search
from hpf.audit import service as audit
from hpf.catalog import domain as catalog
from hpf.gateway.principal import Principal
from hpf.identity import admin as accounts
from hpf.identity import directory
from hpf.kit import clock
from hpf.kit.errors import InvalidInput
from hpf.kit.ids import mask_phone
from hpf.notices import service as notices

router = web.console_router()
MAX_SEQ = 2**63 - 1
Before = Annotated[int | None, Query(ge=1, le=MAX_SEQ)]
Text = Annotated[str, Query(max_length=64)]
SMS_SHOWN = 100
_SECRET_DIGITS = re.compile(r"\d{4,}")
_PASSWORD = re.compile(r"(密码)[^，,。；;\s]+")


def _range(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """Local calendar days [since, until] as a UTC range (until inclusive)."""
    if since and until and since > until:
        raise InvalidInput("开始日期不能晚于结束日期", code="INVALID_DATE_RANGE")
    return (clock.local_day_start(since) if since else None,
            clock.local_day_start(until + timedelta(days=1)) if until else None)


def _blank(value: str) -> str | None:
    return value.strip() or None


@router.get("/users")
def users(request: Request,
          staff: Annotated[Principal, Depends(web.need(*web.page_roles("users")))],
          q: Text = "", kind: Annotated[str, Query(max_length=10)] = "",
          before: Before = None) -> Response:
    """Accounts of every kind, searchable by login name, ID numbers and phones masked."""
    with web.factory(request)() as session:
        page = directory.accounts(session, kind=_blank(kind), query=_blank(q), before=before)
    return web.render(request, "console/users.html", {
        "page": page, "q": q, "kind": kind, "kinds": directory.KIND_NAMES,
        "may_manage": staff.has_role("admin"),
        "done": request.query_params.get("done", "")[:40]}, staff=staff)


@router.post("/users/{user_id}/status")
def user_status(request: Request, user_id: Annotated[int, Path(ge=1, le=MAX_SEQ)],
                staff: Annotated[Principal, Depends(web.need("admin"))],
                form: web.Form) -> Response:
    """Unlock, disable or enable an account (administrators; audited with the reason)."""
    with web.factory(request)() as session, session.begin():
        done = accounts.set_status(session, staff, user_id, form.get("action", ""),
                                   form.get("reason", ""))
    return RedirectResponse(f"{web.PREFIX}/users?done={done['user_id']}:{done['status']}",
                            status_code=303)


@router.get("/logins")
def logins(request: Request,
           staff: Annotated[Principal, Depends(web.need(*web.page_roles("logins")))],
           q: Text = "", outcome: Annotated[str, Query(max_length=10)] = "",
           since: date | None = None, until: date | None = None,
           before: Before = None) -> Response:
    """Login attempts, newest first (登录日志)."""
    start, end = _range(since, until)
    with web.factory(request)() as session:
        page = directory.login_events(session, query=_blank(q), outcome=_blank(outcome),
                                      since=start, until=end, before=before)
    return web.render(request, "console/logins.html", {
        "page": page, "q": q, "outcome": outcome, "since": since, "until": until,
        "channels": catalog.CHANNELS}, staff=staff)


Auditor = Annotated[Principal, Depends(web.need(*web.page_roles("audit")))]


@router.get("/audit")
def audit_page(request: Request, staff: Auditor, since: date | None = None,
               until: date | None = None, event: Text = "", actor: Text = "",
               outcome: Annotated[str, Query(max_length=16)] = "",
               channel: Annotated[str, Query(max_length=16)] = "",
               before: Before = None) -> Response:
    """Audit records by date range, event prefix, actor, outcome and channel; 50 a page."""
    start, end = _range(since, until)
    filters = audit_search.Filters(since=start, until=end, event_prefix=_blank(event),
                                   actor=_blank(actor), outcome=_blank(outcome),
                                   channel=_blank(channel))
    with web.factory(request)() as session:
        page = audit_search.search(session, filters, before=before)
    return web.render(request, "console/audit.html", {
        "page": page, "since": since, "until": until, "event": event, "actor": actor,
        "outcome": outcome, "channel": channel, "channels": catalog.CHANNELS,
        "query": {k: v for k, v in request.query_params.items() if k != "before"}},
        staff=staff)


@router.post("/audit/verify")
def verify_chain(request: Request, staff: Auditor, form: web.Form) -> Response:
    """Recompute the whole hash chain and say whether it is intact."""
    with web.factory(request)() as session:
        report = audit.verify(session)
    return web.render(request, "console/_verify.html", {"report": report}, staff=staff)


def _mask_text(text: str) -> str:
    """A message with its codes and passwords hidden."""
    return _PASSWORD.sub(r"\1******", _SECRET_DIGITS.sub(lambda m: "*" * len(m.group()), text))


@router.get("/sms")
def sms(request: Request,
        staff: Annotated[Principal, Depends(web.need(*web.page_roles("sms")))],
        phone: Annotated[str, Query(max_length=20)] = "") -> Response:
    """The latest outgoing messages (短信发件箱)."""
    full = staff.has_role("admin")
    with web.factory(request)() as session:
        rows = notices.latest(session, recipient=_blank(phone), limit=SMS_SHOWN)
        messages = [{"at": m.created_at, "channel": m.channel, "template": m.template,
                     "status": m.status,
                     "recipient": m.recipient if full or m.channel != "sms"
                     else mask_phone(m.recipient),
                     "content": m.content if full else _mask_text(m.content)} for m in rows]
    return web.render(request, "console/sms.html", {
        "messages": messages, "phone": phone, "full": full}, staff=staff)
