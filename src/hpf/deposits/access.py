"""Who may act on which employer or member: the principal's own, or any for staff."""

from hpf.deposits import repository
from hpf.deposits.models import Employer, Member
from hpf.gateway.registry import Ctx
from hpf.kit.errors import Forbidden, InvalidInput


def employer_for(ctx: Ctx, unit_no: str | None, *, lock: bool = False) -> Employer:
    """The employer a call acts on: the operator's own, or the one staff name."""
    p = ctx.principal
    if p.kind == "unit":
        employer = repository.employer_by_id(ctx.session, p.employer_id, lock=lock)
        if unit_no is not None and unit_no != employer.unit_no:
            raise Forbidden("不能办理其他单位的业务", code="OTHER_EMPLOYER")
    elif p.is_staff or p.kind == "system":
        if unit_no is None:
            raise InvalidInput("请填写单位账号", code="UNIT_NO_REQUIRED")
        employer = repository.employer_by_no(ctx.session, unit_no, lock=lock)
    else:
        raise Forbidden("无权办理单位业务", code="ACTOR_NOT_ALLOWED")
    ctx.employer_id = employer.id
    return employer


def member_for(ctx: Ctx, member_no: str | None, *, lock: bool = False) -> Member:
    """The member a call acts on: the member's own, the operator's employee, or any for staff."""
    p = ctx.principal
    if p.kind == "member":
        member = repository.member_by_id(ctx.session, p.member_id, lock=lock)
        if member_no is not None and member_no != member.member_no:
            raise Forbidden("不能查询或办理他人的业务", code="OTHER_MEMBER")
    elif p.kind == "unit":
        if member_no is None:
            raise InvalidInput("请填写个人账号", code="MEMBER_NO_REQUIRED")
        member = repository.member_by_no(ctx.session, member_no, lock=lock)
        if member.employer_id != p.employer_id:
            raise Forbidden("该职工不属于本单位", code="OTHER_EMPLOYER")
        ctx.employer_id = p.employer_id
    elif p.is_staff or p.kind == "system":
        if member_no is None:
            raise InvalidInput("请填写个人账号", code="MEMBER_NO_REQUIRED")
        member = repository.member_by_no(ctx.session, member_no, lock=lock)
    else:
        raise Forbidden("无权办理个人业务", code="ACTOR_NOT_ALLOWED")
    ctx.member_id = member.id
    ctx.employer_id = ctx.employer_id or member.employer_id
    return member
