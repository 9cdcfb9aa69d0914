"""invoke(): the one entry of every channel into the business, and the approval decisions.

Order of the checks (DESIGN.md): catalogue; the channel open and the service offered on it,
outside maintenance and inside its hours (hpf.catalog.access); flow thresholds
(hpf.gateway.flow); the principal's right to the service; parameters; idempotent replay;
per-user limits
and one application in flight per business (hpf.gateway.limits); then the business, inside the
same transaction as the stored command. Replay comes before limits and in-flight, unlike the
list in DESIGN.md: a retry is the same application, so it must neither count against the day's
total twice nor collide with itself. A refusal rolls the business back and is stored as a
failed command in a transaction of its own, so a refusal writes nothing but its record (a
flow refusal not even that).
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hpf.audit import service as audit
from hpf.catalog import access
from hpf.catalog import domain as catalog
from hpf.gateway import flow, registry
from hpf.gateway import limits as limits_rules
from hpf.gateway.models import Approval, Command
from hpf.gateway.principal import Principal
from hpf.gateway.registry import Ctx
from hpf.identity import stepup
from hpf.kit import clock, workdays
from hpf.kit.db import read_transaction
from hpf.kit.errors import (
    Conflict,
    Forbidden,
    HpfError,
    InvalidInput,
    NotAvailable,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from hpf.risk import service as risk

MAX_PARAMS_BYTES = 64 * 1024
MAX_KEY_LENGTH = 64

# Which principals may call a service of each catalogue actor. Staff act for anyone at the
# counter; "public" services need no login.
ACTOR_PRINCIPALS = {
    # "system": a job carrying out a standing instruction the member signed (约定提取), as the
    # in-process SYSTEM principal, which no channel can present.
    "member": {"member", "staff", "system"},
    "unit": {"unit", "staff"},
    "developer": {"developer", "staff"},
    "staff": {"staff"},
    "system": {"system", "staff"},
    "public": {"member", "unit", "developer", "staff", "system", "anonymous"},
}


# Which staff roles may call the services of a catalogue area (administrators may call all).
# Business is the counter clerk's; queries are also the reviewers' and the auditor's (what
# they see is masked by role, hpf.identity.visibility); publishing is the publisher's. A
# channel operator manages channels and calls no business at all.
STAFF_ROLES: dict[str, tuple[str, ...]] = {
    "deposit": ("clerk",), "withdrawal": ("clerk",), "loan": ("clerk",),
    "developer": ("clerk",), "appointment": ("clerk",), "identity": ("clerk",),
    "query": ("clerk", "reviewer", "approver", "auditor"),
    "publish": ("publisher",), "interact": ("clerk", "publisher"),
}


@dataclass
class Outcome:
    """What the channel renders: HTTP status, body, the command id, whether replayed."""

    status: int
    body: dict[str, Any]
    command_id: int | None
    replayed: bool = False


def canonical(params: dict[str, Any]) -> tuple[str, str]:
    """Parameters as canonical JSON text and its SHA-256 (what idempotency compares)."""
    text = json.dumps(params, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)
    return text, hashlib.sha256(text.encode()).hexdigest()


def _authorise(service: catalog.Service, handler: registry.Handler, principal: Principal) -> None:
    """The principal's right to the service (the channel was checked by hpf.catalog.access)."""
    if principal.kind == "anonymous" and handler.allow_anonymous:
        return
    allowed = set().union(*(ACTOR_PRINCIPALS[a] for a in service.actors))
    if principal.kind not in allowed:
        if principal.kind == "anonymous":
            raise Unauthorized("请先登录后再办理该业务", code="LOGIN_REQUIRED")
        raise Forbidden(f"当前用户无权办理「{service.name_zh}」", code="ACTOR_NOT_ALLOWED")
    if service.mode == "counter" and principal.kind != "staff":
        raise Forbidden(f"「{service.name_zh}」须到服务网点柜面办理", code="COUNTER_ONLY")
    if principal.is_staff and "public" not in service.actors:
        roles = STAFF_ROLES.get(service.area, ("admin",))
        if not any(principal.has_role(r) for r in roles):
            raise Forbidden(f"您的岗位无权办理「{service.name_zh}」", code="ROLE_REQUIRED",
                            role=roles[0])


def parse_params(handler: registry.Handler, params: dict[str, Any]) -> registry.Params:
    """Validate parameters against the handler's model (INVALID_PARAMS with each field)."""
    if not isinstance(params, dict):
        raise InvalidInput("参数必须是对象", code="INVALID_PARAMS")
    try:
        return handler.params.model_validate(params)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "type": e["type"], "detail": e["msg"]}
            for e in exc.errors(include_url=False, include_context=False, include_input=False)
        ]
        raise InvalidInput("业务参数有误", code="INVALID_PARAMS", errors=errors) from None


def _replay(command: Command, params_hash: str) -> Outcome:
    if command.params_hash != params_hash:
        raise Conflict("同一业务流水号已用于不同的申请内容", code="IDEMPOTENCY_MISMATCH")
    status = 202 if command.status == "pending" else 200
    body = json.loads(command.result_json) if command.result_json else {}
    if "status" in body and "application_no" not in body:  # a query's, see _run_query
        body = {"status": body["status"], "application_no": application_no(command),
                **{k: v for k, v in body.items() if k != "status"}}
    return Outcome(status, body, command.id, replayed=True)


def _find_by_key(session: Session, principal: Principal, key: str) -> Command | None:
    return session.scalars(
        select(Command).where(
            Command.actor_kind == principal.kind,
            Command.actor_id.is_(None) if principal.user_id is None
            else Command.actor_id == principal.user_id,
            Command.idempotency_key == key,
        )
    ).first()


def invoke(
    factory: sessionmaker[Session],
    channel: str,
    principal: Principal,
    code: str,
    params: dict[str, Any],
    idempotency_key: str | None = None,
    *,
    ip: str | None = None,
    sms_code: str | None = None,
) -> Outcome:
    """Call a catalogued service for a principal on a channel (see module docstring).

    `ip` is the caller's address (risk rules count applications per address); `sms_code` the
    step-up code a sensitive service needs (hpf.identity.stepup).
    """
    service = catalog.get(code)
    if service is None:
        raise NotFound("业务不存在", code="UNKNOWN_SERVICE", service=code)
    handler = registry.get(code)
    if handler is None:
        raise NotAvailable(f"「{service.name_zh}」暂未开通，敬请期待", service=code)
    access.require_channel(channel)
    if idempotency_key is not None and not 8 <= len(idempotency_key) <= MAX_KEY_LENGTH:
        raise InvalidInput("业务流水号长度应为8至64个字符", code="INVALID_IDEMPOTENCY_KEY")
    if not isinstance(params, dict):
        raise InvalidInput("参数必须是对象", code="INVALID_PARAMS")
    # As sent, for the size limit; _run validates them after the access checks and leaves the
    # validated form in `validated`, which is what a refusal records when there is one.
    params_text, params_hash = canonical(params)
    validated: dict[str, str] = {}
    if len(params_text.encode()) > MAX_PARAMS_BYTES:
        raise InvalidInput("业务参数过大", code="PARAMS_TOO_LARGE")
    if principal.kind == "anonymous":
        idempotency_key = None  # anonymous callers share no key space
    system_error = True
    try:
        _step_up(factory, service, handler, principal, channel, params, idempotency_key,
                 sms_code)
        outcome = _run(factory, service, handler, principal, channel, params, idempotency_key,
                       validated, ip)
        system_error = False
        return outcome
    except TooManyRequests:
        # Not stored: writing a record per refused request would feed the flood it stops.
        system_error = False
        raise
    except IntegrityError:
        # A concurrent call with the same key committed first: replay its result.
        if idempotency_key is None:
            raise
        with factory() as session:
            command = _find_by_key(session, principal, idempotency_key)
            if command is None:
                raise
            outcome = _replay(command, validated.get("hash", params_hash))
            system_error = False
            return outcome
    except HpfError as exc:
        system_error = exc.status >= 500
        _record_failure(factory, service, principal, channel,
                        validated.get("text", params_text), validated.get("hash", params_hash),
                        exc)
        raise
    finally:
        flow.record_outcome(factory, channel, system_error)


def _new_command(service: catalog.Service, principal: Principal, channel: str,
                 params_text: str, params_hash: str, key: str | None, status: str) -> Command:
    return Command(
        service_code=service.code, channel=channel, actor_kind=principal.kind,
        actor_id=principal.user_id, actor_name=principal.name, member_id=principal.member_id,
        employer_id=principal.employer_id, params_json=params_text, params_hash=params_hash,
        idempotency_key=key, status=status, required_approvals=0, approvals=0,
        created_at=clock.now(),
    )


def _step_up(factory, service: catalog.Service, handler: registry.Handler, principal: Principal,
             channel: str, params: dict[str, Any], key: str | None, code: str | None) -> None:
    """Spend the SMS step-up code of a sensitive service in its own transaction, so a wrong
    guess counts even though the application is then refused (a retry replays instead).

    The checks a caller would meet first (channel, hours, who may apply, parameters) come
    before it, so nobody is asked for a code for an application that cannot go ahead."""
    kept: HpfError | None = None
    with factory() as session, session.begin():
        if not stepup.needed(session, service, principal):
            return
        access.check(session, service, channel)
        _authorise(service, handler, principal)
        parse_params(handler, params)
        if key is not None and _find_by_key(session, principal, key) is not None:
            return
        limits_rules.refuse_in_flight(session, limits_rules.own_key(service.code, principal))
        try:
            stepup.verify(session, service, principal, code)
        except HpfError as exc:
            if not getattr(exc, "keep_writes", False):
                raise
            kept = exc
    if kept is not None:
        raise kept


def _admit(session: Session, service: catalog.Service, handler: registry.Handler,
           principal: Principal, channel: str, params: dict[str, Any], key: str | None,
           validated: dict[str, str], *, may_write: bool = True,
           flow_counted: bool = False):
    """The checks every call meets in its transaction: channel, deployment, hours, flow, the
    caller's right, the parameters and the user's limits. Returns the replayed Outcome of a
    retry, else (parsed, canonical text, its hash, amount)."""
    at_counter = channel == "counter" and principal.kind == "staff"
    thresholds, limits = access.check(session, service, channel, staff_at_counter=at_counter,
                                      may_write=may_write)
    if not flow_counted:
        flow.admit(channel, "tx", thresholds.tx_per_s, thresholds.tx_per_min)
    _authorise(service, handler, principal)
    parsed = parse_params(handler, params)
    params_text, params_hash = canonical(parsed.model_dump(mode="json"))
    validated.update(text=params_text, hash=params_hash)
    # A retry is answered before the limits and the in-flight rule: it is the same
    # application, not a second one.
    if key is not None:
        existing = _find_by_key(session, principal, key)
        if existing is not None:
            return _replay(existing, params_hash)
    amount = limits_rules.amount_of(parsed)
    limits_rules.check(session, service.code, principal, amount, limits)
    return parsed, params_text, params_hash, amount


def _run_query(factory, service, handler, principal, channel, params, key, validated, ip):
    """A query (catalogue area "query": reads only) in two steps: the checks and the business
    in a read transaction, then the stored command and its audit record in a short writing
    one. On SQLite the write lock is held for those few statements instead of the whole
    call, so queries, most of a platform's traffic, no longer queue behind each other.
    None when the channel's rule must reopen it first (a write): the caller runs _run."""
    with read_transaction(factory) as session:
        try:
            admitted = _admit(session, service, handler, principal, channel, params, key,
                              validated, may_write=False)
        except access.ReopenDue:
            return None
        if isinstance(admitted, Outcome):
            return admitted
        parsed, params_text, params_hash, _amount = admitted
        ctx = Ctx(session, principal, channel, None)
        result = handler.execute(ctx, parsed)
    with factory() as session, session.begin():
        command = _new_command(service, principal, channel, params_text, params_hash, key,
                               "succeeded")
        command.decided_at = clock.now()
        command.employer_id = ctx.employer_id or command.employer_id
        command.member_id = ctx.member_id or command.member_id
        # Stored in the one INSERT, without the application number (it is the id, unknown
        # until then): _replay puts it back. Same text as the live answer otherwise.
        stored = {"status": "succeeded", "result": result}
        command.result_json = json.dumps(stored, ensure_ascii=False, default=str)
        session.add(command)
        session.flush()
        risk.assess_application(session, principal, service.code, False, channel, command.id,
                                command.member_id, ip)
        _audit_call(session, command, principal)
        body = {"status": "succeeded", "application_no": application_no(command),
                **json.loads(command.result_json)}
        return Outcome(200, body, command.id)


def _run(factory, service, handler, principal, channel, params, key, validated, ip=None):
    if service.area == "query" and handler.review is None:
        outcome = _run_query(factory, service, handler, principal, channel, params, key,
                             validated, ip)
        if outcome is not None:
            return outcome
    counted, prepared = _prepare(factory, service, handler, principal, channel, params, key,
                                 validated)
    with factory() as session, session.begin():
        admitted = _admit(session, service, handler, principal, channel, params, key,
                          validated, flow_counted=counted)
        if isinstance(admitted, Outcome):
            return admitted
        parsed, params_text, params_hash, amount = admitted
        limits_rules.refuse_in_flight(session, limits_rules.own_key(service.code, principal))
        command = _new_command(service, principal, channel, params_text, params_hash, key,
                               "running")
        command.amount_fen = amount
        session.add(command)
        session.flush()
        ctx = Ctx(session, principal, channel, command.id, prepared=prepared)
        levels = handler.review(ctx, parsed) if handler.review else 0
        holds = risk.assess_application(session, principal, service.code, service.money == "out",
                                        channel, command.id, ctx.member_id, ip)
        if holds and levels == 0:
            levels = 1  # held by a risk rule: one reviewer looks before it runs
        if levels > 0:
            command.status = "pending"
            command.required_approvals = levels
            command.due_on = ctx.due_on
            _hold_in_flight(session, command, principal, ctx)
            body = {
                "status": "pending", "application_no": application_no(command),
                "message": f"申请已受理，等待中心审核（{levels}级审批）",
                "approvals_required": levels,
            }
            if holds:
                body["message"] = "申请已受理，因账户安全原因须人工复核后办理"
                body["risk"] = [h.message for h in holds]
            http = 202
        else:
            result = handler.execute(ctx, parsed)
            command.status = "succeeded"
            command.decided_at = clock.now()
            body = {"status": "succeeded", "application_no": application_no(command),
                    "result": result}
            http = 200
        command.employer_id = ctx.employer_id or command.employer_id
        command.member_id = ctx.member_id or command.member_id
        command.result_json = json.dumps(body, ensure_ascii=False, default=str)
        session.flush()
        _audit_call(session, command, principal,
                    {"risk": [h.rule for h in holds]} if holds else None)
        # The stored JSON is what a replay returns, so the first answer is the same text.
        return Outcome(http, json.loads(command.result_json), command.id)


def _prepare(factory, service, handler, principal, channel, params, key,
             validated: dict[str, str]) -> tuple[bool, Any]:
    """(whether the flow threshold was counted, the answer of the handler's prepare step).

    The step (registry.Handler.prepare) runs in a read transaction once the checks a caller
    meets first pass, so a refused call asks no outside system. The answer is None when the
    handler has no such step, or the call is a retry or needs its channel reopened first (the
    review then asks inside its transaction, as without the step). Nothing it does is kept
    but its answer: the transaction that follows checks everything again but the flow
    threshold, counted once."""
    if handler.prepare is None:
        return False, None
    with read_transaction(factory) as session:
        at_counter = channel == "counter" and principal.kind == "staff"
        try:
            thresholds, _ = access.check(session, service, channel,
                                         staff_at_counter=at_counter, may_write=False)
        except access.ReopenDue:
            return False, None
        # Counted here rather than in _admit: a flood of applications refused by the
        # outside systems must meet the channel's threshold before it reaches them.
        flow.admit(channel, "tx", thresholds.tx_per_s, thresholds.tx_per_min)
        _authorise(service, handler, principal)
        parsed = parse_params(handler, params)
        text, digest = canonical(parsed.model_dump(mode="json"))
        validated.update(text=text, hash=digest)  # what a refusal here records
        if key is not None and _find_by_key(session, principal, key) is not None:
            return True, None
        limits_rules.refuse_in_flight(session, limits_rules.own_key(service.code, principal))
        return True, handler.prepare(Ctx(session, principal, channel, None), parsed)


def _hold_in_flight(session: Session, command: Command, principal: Principal, ctx: Ctx) -> None:
    """Mark the pending application as the one in flight for its business and subject."""
    key = limits_rules.in_flight_key(command.service_code, principal, ctx.member_id,
                                     ctx.employer_id)
    if key is None:
        return
    # The savepoint first: begin_nested() flushes what is pending, and the key must be
    # written inside it for a collision to be caught here.
    nested = session.begin_nested()
    command.in_flight_key = key
    try:
        session.flush()
        nested.commit()
    except IntegrityError:
        # Another application for the same member or employer is already waiting (a
        # concurrent one committed first, or it concerns someone else than the caller).
        nested.rollback()
        raise limits_rules.InFlight() from None


def _audit_call(session: Session, command: Command, principal: Principal,
                detail: dict[str, Any] | None = None) -> None:
    """The call's audit record, the last write of its transaction (hpf.audit.service)."""
    audit.record(session, "service.call", command.status, actor_kind=principal.kind,
                 actor_id=principal.user_id, actor_name=principal.name, channel=command.channel,
                 target=command.service_code, command_id=command.id, detail=detail)


def application_no(command: Command) -> str:
    """The application number a user sees (业务流水号)."""
    return f"YW{command.id:012d}"


def _record_failure(factory, service, principal, channel, params_text, params_hash,
                    exc: HpfError) -> None:
    """Store the refused call (without its idempotency key, so a corrected retry can run)."""
    with factory() as session, session.begin():
        command = _new_command(service, principal, channel, params_text, params_hash, None,
                               "failed")
        command.error_code = exc.code
        command.error_message = exc.message[:300]
        command.decided_at = clock.now()
        session.add(command)
        session.flush()
        _audit_call(session, command, principal, {"code": exc.code})


# --- Approvals (审核) -------------------------------------------------------------------------
REVIEWER_ROLES = ("reviewer", "approver", "admin")


def decide(factory: sessionmaker[Session], staff: Principal, command_id: int, approve: bool,
           reason: str | None = None) -> dict[str, Any]:
    """Record one staff decision; the last required approval executes the application."""
    if not staff.is_staff or not any(staff.has_role(r) for r in REVIEWER_ROLES):
        raise Forbidden("无审核权限", code="NOT_A_REVIEWER")
    if not approve and not (reason and reason.strip()):
        raise InvalidInput("驳回必须填写原因", code="REASON_REQUIRED")
    try:
        with factory() as session, session.begin():
            body = _decide(session, staff, command_id, approve, reason)
            audit.record(session, "approval", "approve" if approve else "reject",
                         actor_kind=staff.kind, actor_id=staff.user_id, actor_name=staff.name,
                         channel="counter",
                         target=session.get(Command, command_id).service_code,
                         command_id=command_id,
                         detail={"application": body.get("status"), "reason": reason})
            return body
    except IntegrityError:
        # Only a concurrent second decision by the same reviewer is "already decided"; an
        # integrity error of the business itself must not be disguised as one.
        with factory() as session:
            if session.scalar(select(Approval.id).where(
                    Approval.command_id == command_id, Approval.staff_id == staff.user_id)):
                raise Conflict("您已审核过该申请", code="ALREADY_DECIDED") from None
        raise


def _decide(session: Session, staff: Principal, command_id: int, approve: bool,
            reason: str | None) -> dict[str, Any]:
    command = session.get(Command, command_id, with_for_update=True)
    if command is None:
        raise NotFound("申请不存在", code="NO_APPLICATION")
    if command.status != "pending":
        # The detail is `state`: HpfError reads a `status` keyword as the HTTP status, and a
        # string there turned this refusal into a 500.
        raise Conflict("该申请已处理", code="APPLICATION_DECIDED", state=command.status)
    if command.actor_kind == "staff" and command.actor_id == staff.user_id:
        raise Forbidden("经办人不能审核自己受理的业务", code="MAKER_CANNOT_CHECK")
    if command.service_code.startswith("mgmt.") and not staff.has_role("approver"):
        raise Forbidden("管理变更须由审批员批准", code="ROLE_REQUIRED", role="approver")
    already = session.scalar(select(Approval.id).where(
        Approval.command_id == command.id, Approval.staff_id == staff.user_id))
    if already:
        raise Conflict("您已审核过该申请，须由其他审核人审批", code="ALREADY_DECIDED")
    session.add(Approval(
        command_id=command.id, level=command.approvals + 1, staff_id=staff.user_id,
        staff_name=staff.name or "", decision="approve" if approve else "reject",
        reason=(reason or "")[:300] or None,
    ))
    handler = registry.get(command.service_code)
    original = Principal(kind=command.actor_kind, user_id=command.actor_id,
                         name=command.actor_name, member_id=command.member_id,
                         employer_id=command.employer_id)
    try:
        params = parse_params(handler, json.loads(command.params_json))
        stale = None
    except HpfError as exc:
        # Valid when submitted but not any more (a maintenance window whose end has passed):
        # the approval fails the application rather than the request.
        params, stale = None, exc
    ctx = Ctx(session, original, command.channel, command.id,
              employer_id=command.employer_id, member_id=command.member_id)
    risk.on_decision(session, command.id, approve, staff)
    if not approve:
        if handler.on_reject and params is not None:
            handler.on_reject(ctx, params, command.id)
        command.status = "rejected"
        command.in_flight_key = None
        command.error_code = "REJECTED"
        command.error_message = (reason or "")[:300]
        command.decided_at = clock.now()
        body = {"status": "rejected", "application_no": application_no(command),
                "reason": reason}
        command.result_json = json.dumps(body, ensure_ascii=False)
        session.flush()
        return body
    command.approvals += 1
    if command.approvals < command.required_approvals:
        session.flush()
        return {"status": "pending", "application_no": application_no(command),
                "approvals": command.approvals, "approvals_required": command.required_approvals}
    nested = session.begin_nested()
    try:
        if stale is not None:
            raise stale
        result = handler.execute(ctx, params)
        nested.commit()
    except HpfError as exc:
        nested.rollback()
        if handler.on_reject and params is not None:
            handler.on_reject(ctx, params, command.id)
        command.status = "failed"
        command.in_flight_key = None
        command.error_code = exc.code
        command.error_message = exc.message[:300]
        command.decided_at = clock.now()
        body = {"status": "failed", "application_no": application_no(command),
                "error": exc.to_dict()}
        command.result_json = json.dumps(body, ensure_ascii=False, default=str)
        session.flush()
        return body
    command.status = "succeeded"
    command.in_flight_key = None
    command.decided_at = clock.now()
    # As in _run: file the command under what the execution created or touched (a newly
    # registered employer, a new flexible member), so it shows in their business history.
    command.employer_id = ctx.employer_id or command.employer_id
    command.member_id = ctx.member_id or command.member_id
    body = {"status": "succeeded", "application_no": application_no(command), "result": result}
    command.result_json = json.dumps(body, ensure_ascii=False, default=str)
    session.flush()
    return json.loads(command.result_json)


def _service_name(code: str) -> str:
    service = catalog.get(code)
    if service is not None:
        return service.name_zh
    op = registry.management(code)
    return op.name_zh if op else code


def pending(session: Session, limit: int = 100, service_prefix: str | None = None) -> list[dict]:
    """The approval queue, oldest first."""
    stmt = select(Command).where(Command.status == "pending").order_by(Command.id).limit(limit)
    if service_prefix:
        stmt = stmt.where(Command.service_code.startswith(service_prefix))
    rows = session.scalars(stmt).all()
    holds = risk.holds_of(session, [c.id for c in rows])
    today = clock.today()
    return [
        {
            "command_id": c.id, "application_no": application_no(c),
            "service": c.service_code, "service_name": _service_name(c.service_code),
            "channel": c.channel, "actor": c.actor_name, "created_at": c.created_at,
            "approvals": c.approvals, "approvals_required": c.required_approvals,
            "params": json.loads(c.params_json), "risk": holds.get(c.id, []),
            "due_on": c.due_on, "due_state": due_state(c.due_on, today),
        }
        for c in rows
    ]


def due_state(due_on: date | None, today: date) -> str | None:
    """Where an application stands against its decision deadline: overdue, due today, due on
    the next working day (about to miss it), or None (no deadline, or time enough)."""
    if due_on is None:
        return None
    if due_on < today:
        return "overdue"
    if due_on == today:
        return "due_today"
    return "due_soon" if due_on <= workdays.add_workdays(today, 1) else None
