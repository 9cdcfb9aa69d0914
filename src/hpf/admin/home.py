"""The console's dashboard (首页) and the parameters page (参数): values in force, their
history, and (when the platform has the mgmt.param change) a form to submit a new value."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response

from hpf.admin import changes, web
from hpf.catalog import params
from hpf.gateway import manage, registry
from hpf.gateway import service as gateway
from hpf.gateway.principal import Principal
from hpf.kit.errors import Forbidden

router = web.console_router()
QUEUE_SHOWN = 100


@router.get("")
def dashboard(request: Request,
              staff: Annotated[Principal, Depends(web.need(*web.page_roles("home")))]) -> Response:
    """Pending approvals and every channel's state at a glance."""
    factory = web.factory(request)
    with factory() as session:
        queue = gateway.pending(session, limit=QUEUE_SHOWN)
    changes = sum(1 for item in queue if item["service"].startswith("mgmt."))
    return web.render(request, "console/home.html", {
        "pending": len(queue), "pending_more": len(queue) >= QUEUE_SHOWN,
        "pending_changes": changes, "channels": manage.channels_view(factory)}, staff=staff)


ParamsViewer = Annotated[Principal, Depends(web.need(*web.page_roles("params")))]
PARAM_CHANGE = "mgmt.param"


def _param_change(staff: Principal) -> bool:
    """True when parameter changes exist (a management change) and the staff may make them."""
    op = registry.management(PARAM_CHANGE)
    return op is not None and staff.has_role(op.role)


def _params_page(request: Request, staff: Principal, outcome: changes.Outcome | None = None,
                 form: dict | None = None) -> Response:
    rows = []
    with web.factory(request)() as session:
        for key, (note, _defaults) in sorted(params.DEFAULTS.items()):
            rows.append({"key": key, "note": note, "value": params.get(session, key),
                         "history": params.history(session, key)})
    return web.render(request, "console/params.html", {
        "rows": rows, "may_change": _param_change(staff), "outcome": outcome,
        "form": form or {}, "submitted": changes.submitted(request)},
        staff=staff, status=outcome.status if outcome else 200)


@router.get("/params")
def parameters(request: Request, staff: ParamsViewer) -> Response:
    """Every dated parameter: the value in force today and its history."""
    return _params_page(request, staff)


def _typed(key: str, raw: str):
    """A typed value as the parameter holds it (text when it does not convert: the change's
    own check then says what is expected)."""
    default = params.DEFAULTS[key][1][-1][1]
    raw = raw.strip()
    if isinstance(default, bool):
        return {"true": True, "false": False, "是": True, "否": False}.get(raw.lower(), raw)
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            return raw
    return raw


@router.post("/params")
def change_parameter(request: Request, staff: ParamsViewer, form: web.Form) -> Response:
    """Submit a parameter's new value from a date on (takes effect when approved)."""
    if not _param_change(staff):
        raise Forbidden("您没有调整参数的权限", code="ROLE_REQUIRED")
    key = form.get("key", "")
    if key not in params.DEFAULTS:
        outcome = changes.Outcome(status=422)
        outcome.problems.fields["key"] = "没有这个参数"
        return _params_page(request, staff, outcome, form)
    outcome = changes.submit(request, staff, PARAM_CHANGE, form, ("effective_from", "reason"),
                             {"key": key, "value": _typed(key, form.get("value", ""))})
    if outcome.ok:
        return changes.after("/params", outcome)
    return _params_page(request, staff, outcome, form)
