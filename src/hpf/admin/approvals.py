"""审批: the approval queue; a decision replaces its row in place (htmx) or reloads the page.

The gateway's decide() holds the rules: a reviewer or approver decides, management changes
need an approver, and nobody checks their own work.
"""

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.responses import RedirectResponse, Response

from hpf.admin import changes, materials, web
from hpf.gateway import service as gateway
from hpf.gateway.principal import Principal
from hpf.kit.errors import HpfError, InvalidInput

router = web.console_router()
Reviewer = Annotated[Principal, Depends(web.need(*web.page_roles("approvals")))]
QUEUE_SHOWN = 100
MAX_REASON_CHARS = 300


def _queue(request: Request, staff: Principal, command_id: int | None = None) -> list[dict]:
    """The pending items (or the one of `command_id`), each with the materials its
    application carries (申请材料)."""
    with web.factory(request)() as session:
        items = gateway.pending(session, limit=QUEUE_SHOWN)
        if command_id is not None:
            items = [i for i in items if i["command_id"] == command_id]
        materials.attach(session, staff, items)
        return items


@router.get("/approvals")
def approvals(request: Request, staff: Reviewer) -> Response:
    """The pending applications and changes, oldest first."""
    queue = _queue(request, staff)
    return web.render(request, "console/approvals.html", {
        "items": queue, "more": len(queue) >= QUEUE_SHOWN,
        "decided": changes.submitted(request)}, staff=staff)


@router.post("/approvals/{command_id}")
def decide(request: Request, command_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
           staff: Reviewer, form: web.Form) -> Response:
    """Approve or reject one item (a reason is required to reject)."""
    decision = form.get("decision")
    reason = (form.get("reason") or "").strip() or None
    item = next(iter(_queue(request, staff, command_id)), None)
    try:
        if decision not in ("approve", "reject"):
            raise InvalidInput("请选择批准或驳回", code="INVALID_DECISION")
        if reason and len(reason) > MAX_REASON_CHARS:
            raise InvalidInput(f"审批意见最多{MAX_REASON_CHARS}个字符", code="INPUT_TOO_LONG")
        body = gateway.decide(web.factory(request), staff, command_id, decision == "approve",
                              reason)
    except HpfError as exc:
        if not web.is_htmx(request):
            raise
        return web.render(request, "console/_approval_row.html", {
            "item": item, "command_id": command_id, "error": exc}, staff=staff,
            status=exc.status)
    if not web.is_htmx(request):
        return RedirectResponse(f"{web.PREFIX}/approvals?submitted={body['application_no']}",
                                status_code=303)
    return web.render(request, "console/_approval_row.html", {
        "item": item, "command_id": command_id, "result": body}, staff=staff)
