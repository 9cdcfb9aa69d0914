"""服务部署: each service per channel (offered, hours, per-user limits) and maintenance windows.

Changes are management changes (mgmt.deployment, mgmt.maintenance) awaiting an approver.
"""

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.responses import Response

from hpf.admin import changes, web
from hpf.catalog import domain as catalog
from hpf.catalog import repository
from hpf.catalog.hours import DAYS
from hpf.gateway import manage
from hpf.gateway.principal import Principal
from hpf.kit import clock
from hpf.kit.errors import NotFound

router = web.console_router()
Viewer = Annotated[Principal, Depends(web.need(*web.page_roles("services")))]
Operator = Annotated[Principal, Depends(web.need("channel_operator"))]
DEPLOYMENT = ("channel", "enabled", "days", "opens", "closes", "min_fen", "max_fen",
              "daily_max_fen")
MAINTENANCE = ("channel", "starts_at", "ends_at", "reason")
MAX_LISTED = 300


@router.get("/services")
def services(request: Request, staff: Viewer,
             q: Annotated[str, Query(max_length=48)] = "") -> Response:
    """The catalogue, searchable by code or name, each linking to its deployment."""
    q = q.strip()
    rows = [s for s in catalog.load().values()
            if not q or q.lower() in s.code.lower() or q in s.name_zh][:MAX_LISTED]
    return web.render(request, "console/services.html", {
        "services": rows, "q": q, "channels": catalog.CHANNELS}, staff=staff)


def _service(code: str) -> catalog.Service:
    service = catalog.get(code)
    if service is None:
        raise NotFound("业务不存在", code="UNKNOWN_SERVICE")
    return service


def _detail(request: Request, staff: Principal, service: catalog.Service, *,
            outcome: changes.Outcome | None = None, which: str | None = None,
            form: dict | None = None) -> Response:
    factory = web.factory(request)
    with factory() as session:
        windows = [w for w in repository.maintenance_windows(session, clock.now())
                   if w.service_code in (None, service.code)]
    return web.render(request, "console/service.html", {
        "service": service, "view": manage.deployments_view(factory, service.code),
        "windows": windows, "channels": catalog.CHANNELS, "days": DAYS,
        "may_change": staff.has_role("channel_operator"),
        "submitted": changes.submitted(request), "outcome": outcome, "which": which,
        "form": form or {}}, staff=staff, status=outcome.status if outcome else 200)


@router.get("/services/{code}")
def service_page(request: Request, code: str, staff: Viewer) -> Response:
    """A service on every channel, its maintenance windows and the change forms."""
    return _detail(request, staff, _service(code))


@router.post("/services/{code}/deployment")
def change_deployment(request: Request, code: str, staff: Operator, form: web.Form) -> Response:
    """Submit offering or withdrawing the service on a channel, with hours and limits."""
    service = _service(code)
    outcome = changes.submit(request, staff, "mgmt.deployment", form, DEPLOYMENT,
                             {"service": service.code})
    if outcome.ok:
        return changes.after(f"/services/{service.code}", outcome)
    return _detail(request, staff, service, outcome=outcome, which="deployment", form=form)


@router.post("/services/{code}/maintenance")
def plan_maintenance(request: Request, code: str, staff: Operator, form: web.Form) -> Response:
    """Submit a maintenance window for this service (or every service) on a channel or all."""
    service = _service(code)
    fixed = {} if form.get("scope") == "all" else {"service": service.code}
    outcome = changes.submit(request, staff, "mgmt.maintenance", form, MAINTENANCE, fixed)
    if outcome.ok:
        return changes.after(f"/services/{service.code}", outcome)
    return _detail(request, staff, service, outcome=outcome, which="maintenance", form=form)
