"""Management API (综合管理): channels, deployments and changes with maker-checker."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse

from hpf.catalog import overview
from hpf.channels.api.deps import require_staff, signed_channel
from hpf.gateway import manage, registry
from hpf.gateway.principal import Principal

router = APIRouter(prefix="/api/v1/mgmt", tags=["management"],
                   dependencies=[Depends(signed_channel)])
Staff = Annotated[Principal, Depends(require_staff())]


@router.get("/channels", summary="渠道状态与设置")
def channels(request: Request, staff: Staff) -> dict[str, Any]:
    """Every channel: open or closed, thresholds, closing rule, hours."""
    with request.app.state.session_factory() as session:
        return {"items": overview.channels(session)}


@router.get("/channel-events", summary="渠道启停记录")
def channel_events(request: Request, staff: Staff, channel: str | None = None) -> dict[str, Any]:
    """Who or which rule opened or closed a channel, newest first."""
    with request.app.state.session_factory() as session:
        return {"items": overview.channel_events(session, channel)}


@router.get("/deployments/{service}", summary="业务在各渠道的部署")
def deployments(request: Request, service: str, staff: Staff) -> dict[str, Any]:
    """A service on every channel: offered, hours, limits."""
    with request.app.state.session_factory() as session:
        return overview.deployments(session, service)


@router.get("/changes", summary="可提交的管理变更")
def changes(staff: Staff) -> dict[str, Any]:
    """The management changes, the role each needs, and their parameters' schema."""
    return {"items": [{"code": op.code, "name_zh": op.name_zh, "role": op.role,
                       "params": op.handler.params.model_json_schema()}
                      for op in registry.management_changes()]}


@router.post("/changes/{code}", summary="提交管理变更（须另一人审批）", status_code=202)
def submit(request: Request, code: str, staff: Staff,
           params: dict[str, Any] = Body(default_factory=dict)) -> JSONResponse:
    """Store a change; it takes effect when another approver approves it."""
    body = manage.submit(request.app.state.session_factory, staff, code, params)
    return JSONResponse(body, status_code=202, headers={"X-Command-Id": str(body["command_id"])})
