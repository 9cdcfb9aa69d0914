"""Withdrawal history (q.member_withdrawals) and the progress of every application (q.progress)."""

from typing import Annotated

from pydantic import Field
from sqlalchemy import func, select

from hpf.catalog import domain as catalog
from hpf.deposits.access import employer_for, member_for
from hpf.gateway.models import Command
from hpf.gateway.registry import Ctx, Params
from hpf.gateway.registry import service as handles
from hpf.kit.ids import mask_bank_card
from hpf.withdrawals import kinds
from hpf.withdrawals.models import STATUS_ZH, WdApplication

Page = Annotated[int, Field(ge=1, le=100_000)]
PageSize = Annotated[int, Field(ge=1, le=200)]
COMMAND_STATUS_ZH = {"running": "办理中", "pending": "审核中", "succeeded": "已办结",
                     "failed": "未成功", "rejected": "未通过"}


class WithdrawalsQuery(Params):
    member_no: Annotated[str, Field(max_length=20, pattern=r"^\d+$")] | None = None
    page: Page = 1
    page_size: PageSize = 20


class ProgressQuery(Params):
    member_no: Annotated[str, Field(max_length=20, pattern=r"^\d+$")] | None = None
    unit_no: Annotated[str, Field(max_length=20, pattern=r"^\d+$")] | None = None
    application_no: Annotated[str, Field(max_length=20, pattern=r"^YW\d{12}$")] | None = None
    page: Page = 1
    page_size: PageSize = 20


def application_view(app: WdApplication) -> dict:
    """What a member (or staff) sees of one application."""
    return {
        "application_no": app.application_no, "kind": app.kind,
        "kind_name": kinds.kind(app.kind).name_zh, "reason_code": app.reason_code,
        "status": app.status, "status_name": STATUS_ZH.get(app.status, app.status),
        "route": app.route, "channel": app.channel, "amount_fen": app.amount_fen,
        "interest_fen": app.interest_fen, "closes_account": app.closes_account,
        "bank_code": app.bank_code, "card_no": mask_bank_card(app.card_no),
        "applied_on": app.applied_on, "due_on": app.due_on, "decided_on": app.decided_on,
        "decision_reason": app.decision_reason, "paid_on": app.paid_on,
        "failure_reason": app.failure_reason, "document_no": app.document_no,
    }


@handles("q.member_withdrawals", WithdrawalsQuery)
def member_withdrawals(ctx: Ctx, p: WithdrawalsQuery) -> dict:
    """A member's withdrawal applications, newest first."""
    member = member_for(ctx, p.member_no)
    where = WdApplication.member_id == member.id
    total = ctx.session.scalar(select(func.count()).select_from(WdApplication).where(where))
    rows = ctx.session.scalars(select(WdApplication).where(where)
                               .order_by(WdApplication.id.desc())
                               .offset((p.page - 1) * p.page_size).limit(p.page_size))
    return {"member_no": member.member_no, "total": total, "page": p.page,
            "items": [application_view(a) for a in rows]}


@handles("q.progress", ProgressQuery)
def progress(ctx: Ctx, p: ProgressQuery) -> dict:
    """Every application the caller (or the member / employer staff name) made, from any
    channel, newest first, with its state; withdrawals add their payout state."""
    if ctx.principal.kind == "developer":
        # A developer's applications are its operators' own (no member or employer account).
        owner = (Command.actor_kind == "developer") & (Command.actor_id == ctx.principal.user_id)
    elif ctx.principal.kind == "unit" or p.unit_no is not None:
        owner = Command.employer_id == employer_for(ctx, p.unit_no).id
    else:
        owner = Command.member_id == member_for(ctx, p.member_no).id
    where = [owner, Command.service_code.not_like("q.%"), Command.status != "failed"]
    if p.application_no is not None:
        where.append(Command.id == int(p.application_no[2:]))
    total = ctx.session.scalar(select(func.count()).select_from(Command).where(*where))
    commands = ctx.session.scalars(select(Command).where(*where).order_by(Command.id.desc())
                                   .offset((p.page - 1) * p.page_size).limit(p.page_size)).all()
    apps = {a.command_id: a for a in ctx.session.scalars(select(WdApplication).where(
        WdApplication.command_id.in_([c.id for c in commands])))} if commands else {}
    items = []
    for c in commands:
        service = catalog.get(c.service_code)
        item = {"application_no": f"YW{c.id:012d}", "service": c.service_code,
                "service_name": service.name_zh if service else c.service_code,
                "channel": c.channel, "status": c.status,
                "status_name": COMMAND_STATUS_ZH.get(c.status, c.status),
                "submitted_at": c.created_at, "decided_at": c.decided_at,
                "approvals": c.approvals, "approvals_required": c.required_approvals}
        app = apps.get(c.id)
        if app is not None:
            item["withdrawal"] = {"status": app.status,
                                  "status_name": STATUS_ZH.get(app.status, app.status),
                                  "amount_fen": app.amount_fen, "due_on": app.due_on,
                                  "paid_on": app.paid_on,
                                  "failure_reason": app.failure_reason}
        items.append(item)
    return {"total": total, "page": p.page, "items": items}
