"""证书: operator certificates the centre's CA issued (hpf.identity.certificates), and revoking
one (administrators; the operator's sessions end with it). Issuing stays with `hpf` commands,
which hand the generated private key to the operator once."""

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from hpf.admin import web
from hpf.gateway.principal import Principal
from hpf.identity import certificates

router = web.console_router()
PAGE_SIZE = 50
MAX_PAGE = 200


def _blank(value: str) -> str | None:
    return value.strip() or None


@router.get("/certificates")
def certificate_list(
        request: Request,
        staff: Annotated[Principal, Depends(web.need(*web.page_roles("certificates")))],
        kind: Annotated[str, Query(max_length=10)] = "",
        login: Annotated[str, Query(max_length=64)] = "",
        status: Annotated[str, Query(max_length=10)] = "",
        page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1) -> Response:
    """Issued certificates, newest first, by operator kind, login name and status."""
    with web.factory(request)() as session:
        rows = certificates.list_certificates(
            session, kind=_blank(kind), login_name=_blank(login), status=_blank(status),
            limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    return web.render(request, "console/certificates.html", {
        "rows": rows[:PAGE_SIZE], "more": len(rows) > PAGE_SIZE, "page": page, "kind": kind,
        "login": login, "status": status, "kinds": certificates.KIND_NAMES,
        "may_revoke": staff.has_role("admin"),
        "revoked": request.query_params.get("revoked", "")[:40]}, staff=staff)


@router.post("/certificates/{serial}/revoke")
def revoke(request: Request, serial: Annotated[str, web.PathText],
           staff: Annotated[Principal, Depends(web.need("admin"))], form: web.Form) -> Response:
    """Revoke one certificate with a reason."""
    with web.factory(request)() as session, session.begin():
        record = certificates.revoke(session, staff, serial, form.get("reason", ""))
        done = record.serial
    return RedirectResponse(f"{web.PREFIX}/certificates?revoked={done}", status_code=303)
