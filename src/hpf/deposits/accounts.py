"""Account-state services: custody (托管), judicial freeze and unfreeze (冻结/解冻)."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.deposits import repository
from hpf.deposits.models import (
    M_FROZEN,
    M_NORMAL,
    M_SEALED,
    MEMBER_STATUS_ZH,
    U_NORMAL,
    Employer,
    Freeze,
    Member,
)
from hpf.kit import clock
from hpf.kit.errors import Conflict, InvalidInput, NotFound
from hpf.ledger import service as ledger

CUSTODY_NAME = "住房公积金管理中心托管户"
FLEXIBLE_NAME = "灵活就业人员缴存户"


def virtual_employer(session: Session, kind: str) -> Employer:
    """The centre's virtual employer for custody or flexible accounts, created on first use."""
    from hpf.deposits import service

    employer = repository.virtual_employer(session, kind)
    if employer is None:
        employer = service.register_employer(
            session, name=CUSTODY_NAME if kind == "custody" else FLEXIBLE_NAME, uscc="",
            legal_rep="中心", contact_name="中心", contact_phone="12329", address="中心",
            bank_code="ICBC", unit_ratio_bps=500, member_ratio_bps=500,
            first_month=clock.month_key(clock.today()), kind=kind)
        employer.status = U_NORMAL
    return employer


def custody(session: Session, member: Member, reason: str) -> dict:
    """Move an account into the centre's custody (人事代理/托管); no arrears allowed."""
    from hpf.deposits.remittance import arrears

    if member.status not in (M_NORMAL, M_SEALED):
        raise Conflict(f"账户状态为{MEMBER_STATUS_ZH[member.status]}，不能托管",
                       code="MEMBER_NOT_TRANSFERABLE")
    source = repository.employer_by_id(session, member.employer_id)
    if source.kind == "custody":
        raise Conflict("账户已在托管户", code="ALREADY_IN_CUSTODY")
    owed = arrears(session, source)
    if owed["months"]:
        raise Conflict("单位存在欠缴，须补缴后方可托管", code="EMPLOYER_IN_ARREARS", **owed)
    target = virtual_employer(session, "custody")
    member.employer_id = target.id
    member.status = M_SEALED
    member.sealed_on = clock.today()
    member.seal_reason = reason[:100]
    session.flush()
    return {"member_no": member.member_no, "from_unit": source.unit_no,
            "custody_unit": target.unit_no, "status": M_SEALED}


def freeze(session: Session, member: Member, authority: str, document_no: str,
           amount_fen: int | None, until: date | None) -> dict:
    """Judicial freeze: the whole account (status 06) or an amount held by a reservation."""
    if member.status in ("03", "04", "05"):
        raise Conflict("账户已销户", code="MEMBER_CLOSED")
    if until is not None and until <= clock.today():
        raise InvalidInput("冻结期限应晚于今天", code="INVALID_DATE")
    hold_id = None
    if amount_fen is not None:
        hold_id = ledger.reserve(session, member.account_id, amount_fen,
                                 f"司法冻结{document_no}").id
    record = Freeze(member_id=member.id, authority=authority, document_no=document_no,
                    amount_fen=amount_fen, reservation_id=hold_id, prior_status=member.status,
                    frozen_on=clock.today(), until=until, status="active")
    session.add(record)
    if amount_fen is None:
        member.status = M_FROZEN
    session.flush()
    return {"member_no": member.member_no, "freeze_id": record.id, "amount_fen": amount_fen,
            "status": member.status}


def unfreeze(session: Session, member: Member, document_no: str) -> dict:
    """Lift the active freeze(s) named by a court's unfreeze notice."""
    records = session.scalars(select(Freeze).where(
        Freeze.member_id == member.id, Freeze.status == "active")
        .order_by(Freeze.id.desc())).all()
    if not records:
        raise NotFound("该账户没有生效的冻结", code="NO_ACTIVE_FREEZE")
    latest = records[0]
    if latest.reservation_id is not None:
        ledger.release(session, latest.reservation_id)
    latest.status = "lifted"
    latest.unfrozen_on = clock.today()
    latest.unfreeze_document_no = document_no
    still_whole = any(r.amount_fen is None for r in records[1:])
    if latest.amount_fen is None and not still_whole:
        member.status = latest.prior_status
    session.flush()
    return {"member_no": member.member_no, "freeze_id": latest.id, "status": member.status}
