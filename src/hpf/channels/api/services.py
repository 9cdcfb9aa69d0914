"""HTTP channel of the gateway: the catalogue and POST /api/v1/services/{code}."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Request
from fastapi.responses import JSONResponse

from hpf.catalog import domain as catalog
from hpf.channels.api.deps import (
    client_ip,
    current_principal,
    require_principal,
    signed_channel,
)
from hpf.gateway import registry
from hpf.gateway import service as gateway
from hpf.gateway.principal import Principal

router = APIRouter(prefix="/api/v1", tags=["services"], dependencies=[Depends(signed_channel)])
# The catalogue is public information: any browser may read it without a client signature.
public_router = APIRouter(prefix="/api/v1", tags=["services"])


@public_router.get("/services", summary="服务目录")
def list_services() -> dict[str, Any]:
    """Every catalogued service with its deployment and whether it is available yet."""
    from hpf.jobs.catalog import BACKEND_JOBS

    built = registry.implemented() | set(BACKEND_JOBS)
    return {"items": [dict(s.as_dict(), available=s.code in built, job=BACKEND_JOBS.get(s.code))
                      for s in catalog.load().values()],
            "channels": catalog.CHANNELS}


@router.post("/services/{code}", summary="办理业务（经网关）")
def call_service(
    request: Request,
    code: str,
    params: dict[str, Any] = Body(default_factory=dict),
    principal: Principal = Depends(current_principal),
    channel: str = Depends(signed_channel),
    idempotency_key: str | None = Header(default=None),
    x_hpf_sms_code: str | None = Header(default=None, max_length=8,
                                        description="敏感业务的短信验证码"),
) -> JSONResponse:
    """Invoke a service through the gateway; 202 when the application awaits review."""
    outcome = gateway.invoke(request.app.state.session_factory, channel, principal, code,
                             params, idempotency_key, ip=client_ip(request),
                             sms_code=x_hpf_sms_code)
    headers = {"X-Command-Id": str(outcome.command_id)} if outcome.command_id else {}
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)


@router.get("/approvals", summary="待审核业务")
def approvals(request: Request, principal: Principal = Depends(require_principal),
              prefix: str | None = None) -> dict[str, Any]:
    """The staff approval queue."""
    from hpf.kit.errors import Forbidden

    if not any(principal.has_role(r) for r in gateway.REVIEWER_ROLES):
        raise Forbidden("无审核权限", code="NOT_A_REVIEWER")
    with request.app.state.session_factory() as session:
        return {"items": gateway.pending(session, service_prefix=prefix)}


@router.post("/approvals/{command_id}", summary="审核（通过或驳回）")
def decide(request: Request, command_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
           approve: bool = Body(...),
           reason: str | None = Body(default=None, max_length=300),
           principal: Principal = Depends(require_principal)) -> dict[str, Any]:
    """Approve or reject a pending application with a reason."""
    return gateway.decide(request.app.state.session_factory, principal, command_id, approve,
                          reason)
