"""The console's dashboard (首页) and the parameters page (参数, read-only)."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response

from hpf.admin import web
from hpf.catalog import params
from hpf.gateway import manage
from hpf.gateway import service as gateway
from hpf.gateway.principal import Principal

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


@router.get("/params")
def parameters(request: Request,
               staff: Annotated[Principal, Depends(web.need(*web.page_roles("params")))]
               ) -> Response:
    """Every dated parameter: the value in force today and its history."""
    rows = []
    with web.factory(request)() as session:
        for key, (note, _defaults) in sorted(params.DEFAULTS.items()):
            rows.append({"key": key, "note": note, "value": params.get(session, key),
                         "history": params.history(session, key)})
    return web.render(request, "console/params.html", {"rows": rows}, staff=staff)
