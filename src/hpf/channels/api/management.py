"""Management API (综合管理): channels, deployments and changes with maker-checker."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse

from hpf.channels.api.deps import require_staff, signed_channel
from hpf.gateway import manage
from hpf.gateway.principal import Principal

router = APIRouter(prefix="/api/v1/mgmt", tags=["management"],
                   dependencies=[Depends(signed_channel)])
Staff = Annotated[Principal, Depends(require_staff())]


@router.get("/channels", summary="渠道状态与设置")
def channels(request: Request, staff: Staff) -> dict[str, Any]:
    """Every channel: open or closed, thresholds, closing rule, hours."""
    return {"items": manage.channels_view(request.app.state.session_factory)}


@router.get("/channel-events", summary="渠道启停记录")
def channel_events(request: Request, staff: Staff, channel: str | None = None) -> dict[str, Any]:
    """Who or which rule opened or closed a channel, newest first."""
    return {"items": manage.channel_events_view(request.app.state.session_factory, channel)}


@router.get("/deployments/{service}", summary="业务在各渠道的部署")
def deployments(request: Request, service: str, staff: Staff) -> dict[str, Any]:
    """A service on every channel: offered, hours, limits."""
    return manage.deployments_view(request.app.state.session_factory, service)


@router.get("/changes", summary="可提交的管理变更")
def changes(staff: Staff) -> dict[str, Any]:
    """The management changes, the role each needs, and their parameters' schema."""
    return {"items": manage.changes_view()}


@router.post("/changes/{code}", summary="提交管理变更（须另一人审批）", status_code=202)
def submit(request: Request, code: str, staff: Staff,
           params: dict[str, Any] = Body(default_factory=dict)) -> JSONResponse:
    """Store a change; it takes effect when another approver approves it."""
    body = manage.submit(request.app.state.session_factory, staff, code, params)
    return JSONResponse(body, status_code=202, headers={"X-Command-Id": str(body["command_id"])})
