"""Submitting management changes (管理变更): stored commands awaiting a second staff member.

The maker needs the change's role; the checker approves through the approval queue
(hpf.gateway.service.decide), must be another person and must hold the approver role. One
change per target waits at a time (the in-flight key), so two contradicting changes cannot
both be approved unseen.
"""

import json
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hpf.audit import service as audit
from hpf.catalog import overview
from hpf.gateway import registry
from hpf.gateway.models import Command
from hpf.gateway.principal import Principal
from hpf.gateway.service import application_no, canonical, parse_params
from hpf.kit import clock
from hpf.kit.errors import Conflict, Forbidden, NotFound

CONSOLE_CHANNEL = "console"
CHECKER_ROLE = "approver"


def submit(factory: sessionmaker[Session], staff: Principal, code: str,
           params: dict[str, Any]) -> dict[str, Any]:
    """Store a management change for approval; nothing takes effect yet."""
    op = registry.management(code)
    if op is None:
        raise NotFound("没有这项管理操作", code="UNKNOWN_CHANGE", change=str(code)[:48])
    if not staff.is_staff or not staff.has_role(op.role):
        raise Forbidden(f"您没有「{op.name_zh}」的权限", code="ROLE_REQUIRED", role=op.role)
    parsed = parse_params(op.handler, params)
    text, digest = canonical(parsed.model_dump(mode="json"))
    target = op.target(parsed)
    command = Command(
        service_code=code, channel=CONSOLE_CHANNEL, actor_kind=staff.kind,
        actor_id=staff.user_id, actor_name=staff.name, params_json=text, params_hash=digest,
        status="pending", required_approvals=1, approvals=0, created_at=clock.now(),
        in_flight_key=f"{code}:{target}" if target else None)
    body = {"status": "pending", "message": f"「{op.name_zh}」已提交，须另一名审批员批准后生效"}
    try:
        with factory() as session, session.begin():
            session.add(command)
            session.flush()
            body["application_no"] = application_no(command)
            command.result_json = json.dumps(body, ensure_ascii=False)
            audit.record(session, "mgmt.submit", "pending", actor_kind=staff.kind,
                         actor_id=staff.user_id, actor_name=staff.name,
                         channel=CONSOLE_CHANNEL, target=code, command_id=command.id,
                         detail=parsed.model_dump(mode="json"))
    except IntegrityError:
        raise Conflict("同一对象已有一项变更等待审批", code="IN_FLIGHT_CONFLICT",
                       target=target) from None
    return {**body, "command_id": command.id}


def channels_view(factory: sessionmaker[Session]) -> list[dict]:
    """Every channel's state and settings, for the console."""
    with factory() as session:
        return overview.channels(session)


def channel_events_view(factory: sessionmaker[Session], channel: str | None) -> list[dict]:
    """The latest openings and closings, for the console."""
    with factory() as session:
        return overview.channel_events(session, channel)


def deployments_view(factory: sessionmaker[Session], service_code: str) -> dict:
    """A service on every channel, for the console."""
    with factory() as session:
        return overview.deployments(session, service_code)


def changes_view() -> list[dict]:
    """The management changes, the role each needs and their parameters' schema."""
    return [{"code": op.code, "name_zh": op.name_zh, "role": op.role,
             "params": op.handler.params.model_json_schema()}
            for op in registry.management_changes()]
