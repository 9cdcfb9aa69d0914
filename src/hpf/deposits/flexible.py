"""Flexible-employment and voluntary depositors (灵活就业人员自愿缴存, 2026 regulation).

Their accounts sit under the centre's virtual employer; they pay both parts themselves by a
direct debit (代扣) from a card in their own name, one month at a time.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.catalog import params
from hpf.deposits import domain, repository
from hpf.deposits.accounts import virtual_employer
from hpf.deposits.models import M_NORMAL, M_SEALED, FlexibleAgreement, Member, RemitLine, RemitList
from hpf.exchange.bank import bank_adapter
from hpf.gateway.principal import Principal
from hpf.identity import consent
from hpf.kit import clock
from hpf.kit.clock import month_key
from hpf.kit.errors import Conflict, InvalidInput, NotFound
from hpf.kit.money import percent_of


def _check_terms(session: Session, base_fen: int, ratio_bps: int) -> None:
    from hpf.deposits.service import base_bounds

    floor, cap = base_bounds(session)
    domain.check_base(base_fen, floor, cap)
    lo = params.get(session, "deposit.flexible_ratio_min_bps")
    hi = params.get(session, "deposit.flexible_ratio_max_bps")
    domain.check_ratio(ratio_bps, lo, hi, "ratio_bps")


def register(session: Session, *, member: Member | None, name: str, id_number: str,
             phone: str, base_fen: int, ratio_bps: int) -> Member:
    """Register a voluntary depositor: a new account, or a sealed one moved under the centre."""
    from hpf.deposits import service

    _check_terms(session, base_fen, ratio_bps)
    employer = virtual_employer(session, "flexible")
    if member is None:
        member = service.open_member(
            session, employer, name=name, id_number=id_number, phone=phone, base_fen=base_fen,
            first_month=month_key(clock.today()), unit_ratio_bps=None, member_ratio_bps=None)
    elif member.status != M_SEALED:
        raise Conflict("已有正常缴存的账户，不能登记为灵活就业缴存", code="MEMBER_ACTIVE")
    member.employer_id = employer.id
    member.status = M_NORMAL
    member.sealed_on = None
    member.base_fen = base_fen
    # The depositor pays both parts; they are kept on the member side of the record.
    member.unit_ratio_bps = 0
    member.member_ratio_bps = ratio_bps
    member.first_month = month_key(clock.today())
    session.flush()
    return member


def _agreement(session: Session, member: Member) -> FlexibleAgreement | None:
    return session.scalars(select(FlexibleAgreement).where(
        FlexibleAgreement.member_id == member.id, FlexibleAgreement.status == "active")).first()


def _require_flexible(session: Session, member: Member) -> None:
    employer = repository.employer_by_id(session, member.employer_id)
    if employer.kind != "flexible":
        raise Conflict("请先办理灵活就业人员缴存登记", code="NOT_FLEXIBLE")


def sign(session: Session, member: Member, bank_code: str, card_no: str, debit_day: int, *,
         by: Principal, channel: str, consent_given: bool = False) -> dict:
    """Set up the direct debit from a card verified to be in the member's own name.

    The card holder's name and ID number go to the bank for the check, and the bank debits
    the card every month: both only under the member's consent (委托扣款授权), recorded here
    when the application carries it (at the counter: the signed authorisation form)."""
    _require_flexible(session, member)
    if _agreement(session, member) is not None:
        raise Conflict("已签订代扣协议，如需修改请办理变更", code="AGREEMENT_EXISTS")
    if bank_code not in domain.BANKS:
        raise InvalidInput("委托银行代码无效", code="UNKNOWN_BANK")
    if consent_given:
        consent.grant(session, member.id, "bank", "direct_debit", channel, by)
    consent.require(session, member.id, "bank", "direct_debit")
    if not bank_adapter(session).card_holder_matches(bank_code, card_no, member.name,
                                                     member.id_number):
        raise InvalidInput("银行卡须为本人名下有效借记卡", code="CARD_NOT_OWN")
    unit = params.get(session, "deposit.rounding_unit")
    agreement = FlexibleAgreement(
        member_id=member.id, bank_code=bank_code, card_no=card_no, base_fen=member.base_fen,
        ratio_bps=member.member_ratio_bps,
        monthly_fen=percent_of(member.base_fen, member.member_ratio_bps, unit),
        debit_day=debit_day, status="active", signed_on=clock.today())
    session.add(agreement)
    session.flush()
    return _view(agreement)


def change(session: Session, member: Member, base_fen: int | None, ratio_bps: int | None,
           debit_day: int | None) -> dict:
    """Change the monthly amount or the debit day of the agreement."""
    agreement = _agreement(session, member)
    if agreement is None:
        raise NotFound("没有生效的代扣协议", code="NO_AGREEMENT")
    base = base_fen or member.base_fen
    ratio = ratio_bps or member.member_ratio_bps
    _check_terms(session, base, ratio)
    member.base_fen = agreement.base_fen = base
    member.member_ratio_bps = agreement.ratio_bps = ratio
    agreement.monthly_fen = percent_of(base, ratio, params.get(session, "deposit.rounding_unit"))
    if debit_day:
        agreement.debit_day = debit_day
    session.flush()
    return _view(agreement)


def terminate(session: Session, member: Member) -> dict:
    """End the agreement; the account is sealed and keeps earning interest."""
    agreement = _agreement(session, member)
    if agreement is None:
        raise NotFound("没有生效的代扣协议", code="NO_AGREEMENT")
    agreement.status = "terminated"
    agreement.terminated_on = clock.today()
    member.status = M_SEALED
    member.sealed_on = clock.today()
    member.seal_reason = "灵活就业缴存解约"
    session.flush()
    return _view(agreement)


def pay_month(session: Session, member: Member, period: int, command_id: int | None) -> dict:
    """Collect one month by direct debit and credit it (a list of one line)."""
    from hpf.deposits.remittance import _reference, record_receipt

    agreement = _agreement(session, member)
    if agreement is None:
        raise NotFound("没有生效的代扣协议", code="NO_AGREEMENT")
    domain.check_period(period, month_key(clock.today()))
    if period < member.first_month:
        raise InvalidInput("不能缴存登记前的月份", code="MONTH_BEFORE_REGISTRATION")
    paid = session.scalar(select(RemitLine.list_id).join(RemitList, RemitList.id == RemitLine.list_id)
                          .where(RemitLine.member_id == member.id, RemitLine.period == period,
                                 RemitList.status.in_(("confirmed", "credited"))))
    if paid:
        raise Conflict(f"{period}月已缴存", code="MONTH_ALREADY_PAID")
    employer = repository.employer_by_id(session, member.employer_id)
    remit_list = RemitList(
        employer_id=employer.id, kind="flexible", period=period,
        seq=repository.next_seq(session, employer.id, "flexible", period), status="confirmed",
        reference=_reference("flexible"), command_id=command_id, confirmed_at=clock.now(),
        member_count=1, unit_total_fen=0, member_total_fen=agreement.monthly_fen,
        total_fen=agreement.monthly_fen)
    session.add(remit_list)
    session.flush()
    session.add(RemitLine(
        list_id=remit_list.id, member_id=member.id, account_id=member.account_id, period=period,
        base_fen=agreement.base_fen, unit_ratio_bps=0, member_ratio_bps=agreement.ratio_bps,
        unit_fen=0, member_fen=agreement.monthly_fen, amount_fen=agreement.monthly_fen))
    session.flush()
    result = bank_adapter(session).debit(agreement.bank_code, agreement.card_no, member.name,
                                         agreement.monthly_fen, remit_list.reference)
    receipt = record_receipt(
        session, bank_code=agreement.bank_code, bank_txn_id=result.bank_txn_id,
        # The receipt keeps the card masked: the full number lives only sealed on the agreement.
        amount_fen=result.amount_fen, payer_name=member.name,
        payer_account=agreement.card_no[:4] + "****" + agreement.card_no[-4:],
        reference=remit_list.reference, arrived_on=result.value_date)
    agreement.paid_through = max(agreement.paid_through or 0, period)
    session.flush()
    return {"period": period, "amount_fen": agreement.monthly_fen, "status": receipt.status,
            "bank_txn_id": receipt.bank_txn_id}


def _view(agreement: FlexibleAgreement) -> dict:
    return {"bank_code": agreement.bank_code, "card_no": agreement.card_no[:4] + "****" +
            agreement.card_no[-4:], "base_fen": agreement.base_fen,
            "ratio_bps": agreement.ratio_bps, "monthly_fen": agreement.monthly_fen,
            "debit_day": agreement.debit_day, "status": agreement.status,
            "paid_through": agreement.paid_through}


def run_flexible_debit(factory, period: int, *, chunk_size: int = 500,
                       show_progress: bool = False):
    """The month's direct debit for every active voluntary depositor (resumable job)."""
    from hpf.jobs.runner import run_job
    from hpf.kit.errors import HpfError

    def plan(session: Session) -> list:
        ids = list(session.scalars(select(FlexibleAgreement.id).where(
            FlexibleAgreement.status == "active").order_by(FlexibleAgreement.id)))
        return [ids[i:i + chunk_size] for i in range(0, len(ids), chunk_size)]

    def chunk(session: Session, agreement_ids: list[int], _marker: int) -> tuple[int, int]:
        rows = amount = 0
        for agreement in session.scalars(select(FlexibleAgreement).where(
                FlexibleAgreement.id.in_(agreement_ids))):
            if agreement.status != "active" or (agreement.paid_through or 0) >= period:
                continue
            member = session.get(Member, agreement.member_id)
            if member.status != M_NORMAL or member.first_month > period:
                continue
            savepoint = session.begin_nested()
            try:
                result = pay_month(session, member, period, None)
                savepoint.commit()
            except HpfError:
                # A refused debit leaves the month unpaid; the member sees it as owed.
                savepoint.rollback()
                continue
            rows += 1
            amount += result["amount_fen"]
        return rows, amount

    return run_job(factory, "flexible-debit", str(period), plan, chunk,
                   show_progress=show_progress)
