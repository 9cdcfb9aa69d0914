"""风险预警: alerts the risk rules raised (hpf.risk), confirmed or cleared with a note.

An alert that holds an application is closed by deciding that application in 审批; the
others are reviewed here, the row replaced in place (htmx).
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from hpf.admin import web
from hpf.gateway.principal import Principal
from hpf.kit.errors import HpfError, InvalidInput
from hpf.risk import service as risk

router: APIRouter = web.console_router()
Viewer = Annotated[Principal, Depends(web.need(*web.page_roles("risk")))]
STATUSES = {"open": "待复核", "confirmed": "已确认", "cleared": "已排除"}
PAGE_SIZE = 50


@router.get("/risk")
def alerts(request: Request, staff: Viewer,
           status: Annotated[str, Query(max_length=10)] = "open",
           before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None) -> Response:
    """Alerts of one status (or all), newest first, 50 a page."""
    if status and status not in STATUSES:
        raise InvalidInput("预警状态无效", code="INVALID_STATUS")
    with web.factory(request)() as session:
        items = risk.alerts(session, status or None, PAGE_SIZE + 1, before)
    more = len(items) > PAGE_SIZE
    items = items[:PAGE_SIZE]
    return web.render(request, "console/risk.html", {
        "items": items, "status": status, "statuses": STATUSES,
        "next_before": items[-1]["id"] if more and items else None,
        "may_review": any(staff.has_role(r) for r in risk.REVIEW_ROLES)}, staff=staff)


@router.post("/risk/{alert_id}")
def review(request: Request, alert_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
           staff: Viewer, form: web.Form) -> Response:
    """Confirm (a real case) or clear (a false alarm) one alert, with a note."""
    decision = form.get("decision")
    try:
        if decision not in ("confirm", "clear"):
            raise InvalidInput("请选择确认风险或排除", code="INVALID_DECISION")
        with web.factory(request)() as session, session.begin():
            item = risk.review(session, staff, alert_id, decision == "confirm",
                               form.get("note", ""))
    except HpfError as exc:
        if not web.is_htmx(request):
            raise
        return web.render(request, "console/_error.html", {"error": exc}, staff=staff,
                          status=exc.status)
    if not web.is_htmx(request):
        return RedirectResponse(f"{web.PREFIX}/risk", status_code=303)
    return web.render(request, "console/_risk_row.html", {
        "item": item, "statuses": STATUSES, "may_review": False}, staff=staff)
