"""Deposit use cases for employers and members. Services flush; the caller commits."""

import uuid
from datetime import date

from sqlalchemy.orm import Session

from hpf.catalog import params
from hpf.deposits import domain, repository
from hpf.deposits.models import (
    EMPLOYER_STATUS_ZH,
    M_FROZEN,
    M_NORMAL,
    M_SEALED,
    MEMBER_STATUS_ZH,
    U_CLOSED,
    U_DEFERRED,
    U_NORMAL,
    Employer,
    Member,
)
from hpf.exchange.identity import identity_source
from hpf.exchange.models import RegEnterprise
from hpf.kit import clock
from hpf.kit.errors import Conflict, InvalidInput
from hpf.kit.ids import id_birth_date, id_is_male, normalize_id_number
from hpf.ledger import domain as ledger_domain
from hpf.ledger import service as ledger

CITY_CODE = "5301"


def ratio_bounds(session: Session) -> tuple[int, int]:
    """The city's (min, max) deposit ratio in basis points today."""
    return params.get(session, "deposit.ratio_min_bps"), params.get(session, "deposit.ratio_max_bps")


def base_bounds(session: Session, on: date | None = None) -> tuple[int, int]:
    """The city's (floor, cap) contribution base in fen."""
    return (params.get(session, "deposit.base_floor_fen", on),
            params.get(session, "deposit.base_cap_fen", on))


# --- Employers (单位) ------------------------------------------------------------------------
def register_employer(session: Session, *, name: str, uscc: str, legal_rep: str,
                      contact_name: str, contact_phone: str, address: str, bank_code: str,
                      unit_ratio_bps: int, member_ratio_bps: int, first_month: int,
                      kind: str = "ordinary") -> Employer:
    """Open an employer deposit account (单位缴存登记及建账)."""
    if uscc and repository.employer_by_uscc(session, uscc) is not None:
        raise Conflict("该统一社会信用代码已登记缴存", code="EMPLOYER_EXISTS")
    if kind == "ordinary":
        registered = session.get(RegEnterprise, uscc)
        if registered is not None and registered.status != "active":
            raise Conflict("该单位在市场监管部门已注销", code="EMPLOYER_DEREGISTERED")
        if registered is not None and registered.name != name:
            raise InvalidInput("单位名称与登记信息不一致", code="EMPLOYER_NAME_MISMATCH")
    lo, hi = ratio_bounds(session)
    domain.check_ratio(unit_ratio_bps, lo, hi, "unit_ratio_bps")
    domain.check_ratio(member_ratio_bps, lo, hi, "member_ratio_bps")
    if bank_code not in domain.BANKS:
        raise InvalidInput("委托银行代码无效", code="UNKNOWN_BANK")
    employer = Employer(
        unit_no=uuid.uuid4().hex[:20], name=name, uscc=uscc or None, kind=kind,
        status=U_NORMAL, legal_rep=legal_rep, contact_name=contact_name,
        contact_phone=contact_phone, address=address, bank_code=bank_code,
        unit_ratio_bps=unit_ratio_bps, member_ratio_bps=member_ratio_bps,
        first_month=first_month, registered_on=clock.today(),
    )
    session.add(employer)
    session.flush()
    employer.unit_no = f"{CITY_CODE}{employer.id:08d}"
    suspense = ledger.open_account(session, ledger_domain.EMPLOYER_SUSPENSE,
                                   f"暂收款-{name}", owner_kind="employer", owner_id=employer.id)
    employer.suspense_account_id = suspense.id
    session.flush()
    return employer


def employer_summary(session: Session, employer: Employer) -> dict:
    """The employer's card as shown in the halls (附件3 q-6)."""
    from hpf.deposits.remittance import arrears

    owed = arrears(session, employer)
    return {
        "unit_no": employer.unit_no, "name": employer.name, "uscc": employer.uscc,
        "status": employer.status, "status_zh": EMPLOYER_STATUS_ZH[employer.status],
        "unit_ratio_bps": employer.unit_ratio_bps, "member_ratio_bps": employer.member_ratio_bps,
        "bank_code": employer.bank_code, "bank_name": domain.BANKS.get(employer.bank_code),
        "registered_on": employer.registered_on, "first_month": employer.first_month,
        "paid_through": employer.paid_through,
        "members_total": repository.count_members(session, employer.id),
        "members_active": repository.count_members(session, employer.id, M_NORMAL),
        "deferred": [employer.deferred_from, employer.deferred_until]
        if employer.status == U_DEFERRED else None,
        "arrears_months": owed["months"], "arrears_estimate_fen": owed["estimate_fen"],
        "legal_rep": employer.legal_rep, "contact_name": employer.contact_name,
        "contact_phone": employer.contact_phone, "address": employer.address,
    }


def change_employer(session: Session, employer: Employer, changes: dict) -> dict:
    """Apply employer field changes (key fields were approved before this runs)."""
    if employer.status == U_CLOSED:
        raise Conflict("单位已销户", code="EMPLOYER_CLOSED")
    if "bank_code" in changes and changes["bank_code"] not in domain.BANKS:
        raise InvalidInput("委托银行代码无效", code="UNKNOWN_BANK")
    if "uscc" in changes:
        other = repository.employer_by_uscc(session, changes["uscc"])
        if other is not None and other.id != employer.id:
            raise Conflict("该统一社会信用代码已被其他单位使用", code="EMPLOYER_EXISTS")
    before = {k: getattr(employer, k) for k in changes}
    for key, value in changes.items():
        setattr(employer, key, value)
    session.flush()
    return {"unit_no": employer.unit_no, "before": before, "after": changes}


def close_employer(session: Session, employer: Employer, reason: str) -> dict:
    """Deregister an employer: no active members, no arrears, no money in suspense."""
    from hpf.deposits.remittance import arrears

    if employer.status == U_CLOSED:
        raise Conflict("单位已销户", code="EMPLOYER_CLOSED")
    active = repository.count_members(session, employer.id, M_NORMAL)
    if active:
        raise Conflict(f"单位尚有{active}名正常缴存职工，请先办理封存或转移",
                       code="EMPLOYER_HAS_MEMBERS", active=active)
    owed = arrears(session, employer)
    if owed["months"]:
        raise Conflict("单位存在欠缴，不能注销", code="EMPLOYER_IN_ARREARS", **owed)
    suspense = session.get(ledger.LedgerAccount, employer.suspense_account_id)
    if suspense is not None and suspense.balance_fen:
        raise Conflict("单位暂收款尚未处理完毕", code="EMPLOYER_SUSPENSE_NOT_EMPTY")
    employer.status = U_CLOSED
    employer.closed_on = clock.today()
    session.flush()
    return {"unit_no": employer.unit_no, "status": U_CLOSED, "closed_on": employer.closed_on,
            "reason": reason}


def defer_employer(session: Session, employer: Employer, from_month: int, until_month: int,
                   reason: str) -> dict:
    """Approve a deferral (缓缴): months in the window are not arrears."""
    if employer.status == U_CLOSED:
        raise Conflict("单位已销户", code="EMPLOYER_CLOSED")
    employer.status = U_DEFERRED
    employer.deferred_from = from_month
    employer.deferred_until = until_month
    session.flush()
    return {"unit_no": employer.unit_no, "deferred_from": from_month,
            "deferred_until": until_month, "reason": reason}


# --- Members (个人账户) ----------------------------------------------------------------------
def open_member(session: Session, employer: Employer, *, name: str, id_number: str,
                phone: str | None, base_fen: int, first_month: int,
                unit_ratio_bps: int | None = None, member_ratio_bps: int | None = None,
                retire_group: str | None = None, address: str | None = None,
                check_identity: bool = True) -> Member:
    """Open a personal account (个人账户设立): identity checked, never twice for one person."""
    if employer.status == U_CLOSED:
        raise Conflict("单位已销户，不能设立个人账户", code="EMPLOYER_CLOSED")
    id_number = normalize_id_number(id_number)
    existing = repository.member_by_id_number(session, id_number)
    if existing is not None:
        if existing.employer_id == employer.id:
            raise Conflict("该职工已在本单位开户", code="MEMBER_EXISTS",
                           member_no=existing.member_no)
        raise Conflict("该职工已有个人账户，请办理同城转移", code="MEMBER_EXISTS_ELSEWHERE",
                       member_no=existing.member_no)
    if check_identity:
        found = identity_source(session).check(id_number, name)
        if not found.found or not found.name_matches:
            raise InvalidInput("姓名与身份证号码不一致，身份核查未通过",
                               code="IDENTITY_MISMATCH")
        if found.deceased:
            raise InvalidInput("身份核查显示该人员已死亡", code="IDENTITY_DECEASED")
    floor, cap = base_bounds(session)
    domain.check_base(base_fen, floor, cap)
    lo, hi = ratio_bounds(session)
    unit_ratio = domain.check_ratio(unit_ratio_bps or employer.unit_ratio_bps, lo, hi)
    member_ratio = domain.check_ratio(member_ratio_bps or employer.member_ratio_bps, lo, hi)
    gender = "M" if id_is_male(id_number) else "F"
    account = ledger.open_account(session, ledger_domain.MEMBER_DEPOSITS, f"公积金-{name}",
                                  owner_kind="member")
    member = Member(
        member_no=uuid.uuid4().hex[:20], name=name, id_type="01", id_number=id_number,
        gender=gender, birth_date=id_birth_date(id_number),
        retire_group=domain.retire_group(gender, retire_group), phone=phone, address=address,
        employer_id=employer.id, status=M_NORMAL, base_fen=base_fen,
        unit_ratio_bps=unit_ratio, member_ratio_bps=member_ratio,
        # base_year records the last *adjustment* (dep.base_adjust); the base declared at
        # opening is not one, or a new hire's first annual adjustment would count as a
        # repeat and wait for approval.
        base_year=None, account_id=account.id, opened_on=clock.today(),
        first_month=first_month,
    )
    session.add(member)
    session.flush()
    member.member_no = f"{CITY_CODE}{member.id:010d}"
    account.owner_id = member.id
    session.flush()
    return member


def member_summary(session: Session, member: Member) -> dict:
    """The member account card (附件3 q-1, seed 003 公积金账户)."""
    employer = session.get(Employer, member.employer_id)
    account = session.get(ledger.LedgerAccount, member.account_id)
    unit = params.get(session, "deposit.rounding_unit")
    monthly = domain.monthly_amount(member.base_fen, member.unit_ratio_bps,
                                    member.member_ratio_bps, unit)
    return {
        "member_no": member.member_no, "name": member.name, "id_number": member.id_number,
        "phone": member.phone, "unit_no": employer.unit_no, "unit_name": employer.name,
        "status": member.status, "status_zh": MEMBER_STATUS_ZH[member.status],
        "opened_on": member.opened_on, "base_fen": member.base_fen,
        "unit_ratio_bps": member.unit_ratio_bps, "member_ratio_bps": member.member_ratio_bps,
        "unit_monthly_fen": monthly.unit_fen, "member_monthly_fen": monthly.member_fen,
        "monthly_total_fen": monthly.total_fen, "balance_fen": account.balance_fen,
        "available_fen": account.balance_fen - account.reserved_fen,
        "last_year_balance_fen": account.year_open_balance_fen,
        "paid_through": employer.paid_through, "bank_name": domain.BANKS.get(employer.bank_code),
    }


def change_member(session: Session, member: Member, changes: dict) -> dict:
    """Apply member information changes (identity fields arrive here only once approved)."""
    if "id_number" in changes:
        changes["id_number"] = normalize_id_number(changes["id_number"])
        other = repository.member_by_id_number(session, changes["id_number"])
        if other is not None and other.id != member.id:
            raise Conflict("该身份证号码已有个人账户", code="MEMBER_EXISTS")
        changes["birth_date"] = id_birth_date(changes["id_number"])
        changes["gender"] = "M" if id_is_male(changes["id_number"]) else "F"
    before = {k: getattr(member, k) for k in changes}
    for key, value in changes.items():
        setattr(member, key, value)
    session.flush()
    if "id_number" in changes or "name" in changes:
        from hpf.identity import service as identity

        # Members sign in with their ID number: the login follows the corrected record.
        identity.follow_member_identity(session, member.id, member.id_number, member.name)
    return {"member_no": member.member_no, "changed": sorted(changes),
            "before": {k: str(v) if v is not None else None for k, v in before.items()}}


def seal_member(session: Session, member: Member, reason: str) -> dict:
    """Seal (封存) an account: it leaves the remittance list, the balance stays and earns."""
    if member.status != M_NORMAL:
        raise Conflict(f"账户状态为{MEMBER_STATUS_ZH[member.status]}，不能封存",
                       code="MEMBER_NOT_NORMAL")
    member.status = M_SEALED
    member.sealed_on = clock.today()
    member.seal_reason = reason
    session.flush()
    return {"member_no": member.member_no, "status": M_SEALED, "sealed_on": member.sealed_on}


def unseal_member(session: Session, member: Member, employer: Employer) -> dict:
    """Unseal (启封) at the member's current employer."""
    if member.status != M_SEALED:
        raise Conflict("账户不是封存状态", code="MEMBER_NOT_SEALED")
    if member.employer_id != employer.id:
        raise Conflict("该职工封存在其他单位，请办理同城转移", code="MEMBER_OF_OTHER_EMPLOYER")
    member.status = M_NORMAL
    member.sealed_on = None
    member.seal_reason = None
    session.flush()
    return {"member_no": member.member_no, "status": M_NORMAL}


def transfer_local(session: Session, member: Member, source: Employer, target: Employer,
                   base_fen: int | None, first_month: int) -> dict:
    """Same-city transfer (同城转移): the balance stays, the destination's ratios apply."""
    if member.employer_id != source.id:
        raise Conflict("该职工不属于转出单位", code="MEMBER_OF_OTHER_EMPLOYER")
    if member.status not in (M_NORMAL, M_SEALED):
        raise Conflict(f"账户状态为{MEMBER_STATUS_ZH[member.status]}，不能转移",
                       code="MEMBER_NOT_TRANSFERABLE")
    if target.id == source.id:
        raise InvalidInput("转入单位不能与转出单位相同", code="SAME_EMPLOYER")
    if target.status == U_CLOSED:
        raise Conflict("转入单位已销户", code="EMPLOYER_CLOSED")
    if base_fen is not None:
        floor, cap = base_bounds(session)
        member.base_fen = domain.check_base(base_fen, floor, cap)
    member.employer_id = target.id
    member.unit_ratio_bps = target.unit_ratio_bps
    member.member_ratio_bps = target.member_ratio_bps
    member.status = M_NORMAL
    member.sealed_on = None
    member.first_month = first_month
    session.flush()
    return {"member_no": member.member_no, "from_unit": source.unit_no,
            "to_unit": target.unit_no, "unit_ratio_bps": member.unit_ratio_bps,
            "member_ratio_bps": member.member_ratio_bps}


def frozen_guard(member: Member) -> None:
    """Refuse money or account moves on a judicially frozen account."""
    if member.status == M_FROZEN:
        raise Conflict("账户已被司法冻结", code="MEMBER_FROZEN")
