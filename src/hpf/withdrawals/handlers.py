"""The withdrawal services (wd.*) as gateway handlers: one per kind, the same three steps."""

from sqlalchemy import select

from hpf.deposits.access import member_for
from hpf.gateway.models import Approval
from hpf.gateway.registry import Ctx, Handler, register
from hpf.withdrawals import kinds, service
from hpf.withdrawals.schemas import Withdraw


def _handler(code: str) -> Handler:
    def review(ctx: Ctx, p: Withdraw) -> int:
        return service.apply(ctx, code, p, member_for(ctx, p.member_no, lock=True))

    def prepare(ctx: Ctx, p: Withdraw):
        return service.prepare(ctx, code, p, member_for(ctx, p.member_no))

    def execute(ctx: Ctx, p: Withdraw) -> dict:
        return service.approve(ctx, p)

    def on_reject(ctx: Ctx, _p: Withdraw, command_id: int) -> None:
        reason = ctx.session.scalar(
            select(Approval.reason).where(Approval.command_id == command_id,
                                          Approval.decision == "reject")
            .order_by(Approval.id.desc()).limit(1))
        service.reject(ctx, command_id, reason)

    return Handler(code, Withdraw, execute, review, on_reject, prepare=prepare)


for _code in sorted(kinds.KINDS):
    register(_handler(_code))

from hpf.withdrawals import disputes, queries, schedules  # noqa: E402,F401  (q.*, mgmt.wd_*)
