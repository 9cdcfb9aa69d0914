"""Ending a scheduled rent withdrawal (约定提取解约) before its term: the member asks the centre,
a reviewer records it and an approver approves it (a management change, two pairs of eyes).
Signing a new one replaces the old (service._sign_schedule)."""

from pydantic import Field
from sqlalchemy import select

from hpf.deposits.models import Member
from hpf.gateway.registry import Ctx, Params, register_management
from hpf.kit import clock
from hpf.kit.errors import Conflict
from hpf.notices.service import send_sms
from hpf.withdrawals.models import WdSchedule
from hpf.withdrawals.schemas import MemberNo


class ScheduleCancel(Params):
    """The member whose active scheduled withdrawal ends, and why."""

    member_no: MemberNo
    reason: str = Field(min_length=2, max_length=200)


def _cancel(ctx: Ctx, p: ScheduleCancel) -> dict:
    session = ctx.session
    member = session.scalars(select(Member).where(Member.member_no == p.member_no)).first()
    schedule = None if member is None else session.scalars(select(WdSchedule).where(
        WdSchedule.member_id == member.id, WdSchedule.status == "active")
        .with_for_update()).first()
    if schedule is None:
        raise Conflict("该职工没有生效的约定提取", code="WD_NO_SCHEDULE")
    ctx.member_id = member.id
    schedule.status, schedule.ended_on = "cancelled", clock.today()
    schedule.last_error = f"解约：{p.reason}"[:300]
    if member.phone:
        send_sms(session, member.phone, "withdrawal",
                 "您的租房约定提取已解约，此后不再按月自动提取。")
    session.flush()
    return {"member_no": p.member_no, "schedule_id": schedule.id, "status": schedule.status,
            "done_through": schedule.done_through}


register_management("mgmt.wd_schedule_cancel", "约定提取解约", "reviewer", ScheduleCancel, _cancel,
                    target=lambda p: f"wd-schedule:{p.member_no}")
