"""Monthly remittance (汇缴) and supplementary payment (补缴): list, confirm, pay, match, credit.

Money path: the payment arrives at a commissioned bank and is booked into the employer's
suspense account (暂收款); a receipt whose reference and amount match a confirmed list is
then credited to every member of the list in one set-based posting. A payment that does not
match stays in suspense, visible to staff, and is never split by guesswork.
"""

import secrets
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.catalog import params
from hpf.deposits import domain, repository
from hpf.deposits.models import U_CLOSED, Employer, Member, Receipt, RemitLine, RemitList
from hpf.exchange.bank import bank_adapter
from hpf.kit import clock
from hpf.kit.clock import month_key, months_between
from hpf.kit.errors import Conflict, InvalidInput, NotFound
from hpf.kit.money import MAX_AMOUNT_FEN
from hpf.ledger import bulk
from hpf.ledger import domain as ledger_domain
from hpf.ledger import service as ledger
from hpf.notices.service import send_sms


def _reference(kind: str) -> str:
    return ("HJ" if kind == "remit" else "BJ") + secrets.token_hex(8).upper()


def arrears(session: Session, employer: Employer) -> dict:
    """Months owed before this month and an estimate at today's list amounts."""
    # The centre's virtual employers (custody, flexible) never remit a monthly list, so
    # their paid_through never moves: without this they would "owe" every month since they
    # were created and notify_arrears would text the centre's own 12329 number monthly.
    if employer.status == U_CLOSED or employer.kind != "ordinary":
        return {"months": [], "estimate_fen": 0}
    deferred = None
    if employer.deferred_from and employer.deferred_until:
        deferred = (employer.deferred_from, employer.deferred_until)
    months = domain.arrears_months(employer.first_month, employer.paid_through,
                                   month_key(clock.today()), deferred)
    estimate = 0
    if months:
        estimate = len(months) * monthly_total(session, employer)
    return {"months": months, "estimate_fen": estimate}


def monthly_total(session: Session, employer: Employer) -> int:
    """What one month of remittance comes to at today's bases and ratios (one SQL sum)."""
    return repository.monthly_total_fen(session, employer.id,
                                        params.get(session, "deposit.rounding_unit"))


def generate_list(session: Session, employer: Employer, period: int,
                  command_id: int | None = None) -> RemitList:
    """Generate the month's list (汇缴清册) from the active members; regenerates a draft."""
    if employer.status == U_CLOSED:
        raise Conflict("单位已销户", code="EMPLOYER_CLOSED")
    domain.check_period(period, month_key(clock.today()))
    due = domain.next_due_month(employer.first_month, employer.paid_through)
    if period < due:
        raise Conflict(f"{period}月已汇缴", code="MONTH_ALREADY_PAID", paid_through=employer.paid_through)
    if period > due:
        raise Conflict(f"请先办理{due}月的汇缴", code="MONTH_OUT_OF_ORDER", due=due)
    existing = repository.list_for_period(session, employer.id, "remit", period)
    if existing is not None:
        if existing.status != "draft":
            raise Conflict("本月清册已确认", code="LIST_ALREADY_CONFIRMED",
                           reference=existing.reference)
        existing.status = "cancelled"
        session.flush()
    remit_list = RemitList(
        employer_id=employer.id, kind="remit", period=period,
        seq=repository.next_seq(session, employer.id, "remit", period), status="draft",
        reference=_reference("remit"), command_id=command_id,
    )
    session.add(remit_list)
    session.flush()
    repository.fill_remit_lines(session, remit_list, params.get(session, "deposit.rounding_unit"))
    if remit_list.member_count == 0:
        raise Conflict("单位没有正常缴存的职工", code="LIST_EMPTY")
    session.flush()
    return remit_list


def confirm_list(session: Session, employer: Employer, period: int, kind: str = "remit") -> RemitList:
    """The employer confirms the list; its amounts are fixed from now on."""
    remit_list = repository.list_for_period(session, employer.id, kind, period)
    if remit_list is None:
        raise NotFound("请先生成清册", code="LIST_NOT_FOUND")
    if remit_list.status != "draft":
        raise Conflict("清册已确认", code="LIST_ALREADY_CONFIRMED")
    remit_list.status = "confirmed"
    remit_list.confirmed_at = clock.now()
    session.flush()
    return remit_list


def pay_by_debit(session: Session, employer: Employer, remit_list: RemitList,
                 account_no: str) -> tuple[Receipt, RemitList]:
    """Pay a confirmed list by direct debit (自动代扣) and credit it at once."""
    if remit_list.status != "confirmed":
        # `state`, not `status`: HpfError takes `status` as the HTTP status (a string there
        # made the refusal a 500).
        raise Conflict("清册未确认或已入账", code="LIST_NOT_PAYABLE", state=remit_list.status)
    result = bank_adapter(session).debit(employer.bank_code, account_no, employer.name,
                                  remit_list.total_fen, remit_list.reference)
    receipt = record_receipt(
        session, bank_code=employer.bank_code, bank_txn_id=result.bank_txn_id,
        amount_fen=result.amount_fen, payer_name=employer.name, payer_account=account_no,
        reference=remit_list.reference, arrived_on=result.value_date,
    )
    return receipt, session.get(RemitList, remit_list.id)


def record_receipt(session: Session, *, bank_code: str, bank_txn_id: str, amount_fen: int,
                   payer_name: str, payer_account: str | None, reference: str | None,
                   arrived_on: date) -> Receipt:
    """Book money that arrived (bank → suspense) and try to match it to a list.

    Idempotent on the bank's transaction id: a statement imported twice books nothing twice.
    """
    if not 0 < amount_fen <= MAX_AMOUNT_FEN:
        raise InvalidInput("到账金额无效", code="INVALID_AMOUNT")
    if bank_code not in domain.BANKS:
        raise InvalidInput("委托银行代码无效", code="UNKNOWN_BANK")
    existing = repository.receipt_by_txn(session, bank_txn_id)
    if existing is not None:
        return existing
    remit_list = repository.list_by_reference(session, reference, lock=True) if reference else None
    employer = session.get(Employer, remit_list.employer_id) if remit_list else None
    if employer is not None:
        suspense_id = employer.suspense_account_id
    else:
        suspense_id = ledger.system_account(session, ledger_domain.OTHER_SUSPENSE).id
    bank_account = ledger.system_account(session, ledger_domain.BANK_SETTLEMENT, "bank", None,
                                         f"委托银行结算户-{domain.BANKS[bank_code]}")
    voucher = ledger.post(
        session, "receipt",
        [ledger_domain.Line(bank_account.id, ledger_domain.DEBIT, amount_fen),
         ledger_domain.Line(suspense_id, ledger_domain.CREDIT, amount_fen, memo=reference)],
        summary=f"到账 {payer_name} {reference or ''}", value_date=_value_date(arrived_on),
    )
    receipt = Receipt(
        bank_code=bank_code, bank_txn_id=bank_txn_id, amount_fen=amount_fen,
        payer_name=payer_name[:100], payer_account=payer_account, reference=reference,
        arrived_on=arrived_on, employer_id=employer.id if employer else None,
        status="suspense", suspense_account_id=suspense_id, receipt_voucher_id=voucher.id,
    )
    session.add(receipt)
    session.flush()
    if remit_list is not None:
        match_receipt(session, receipt, remit_list)
    else:
        receipt.note = "未找到对应清册，暂挂待查"
    session.flush()
    return receipt


def _value_date(d: date) -> date:
    """Interest counts from the arrival date, but never before today's open interest year."""
    today = clock.today()
    start, _ = ledger_domain.interest_year_bounds(ledger_domain.interest_year_of(today))
    return max(d, start) if d <= today else today


def match_receipt(session: Session, receipt: Receipt, remit_list: RemitList) -> None:
    """Credit a list from a receipt when the amount matches exactly; else keep in suspense."""
    if remit_list.status != "confirmed":
        receipt.note = f"清册状态为{remit_list.status}，暂挂待查"
        return
    if receipt.amount_fen != remit_list.total_fen:
        receipt.note = (f"到账金额{receipt.amount_fen}与清册金额{remit_list.total_fen}不符，"
                        "暂挂待查")
        return
    credit_list(session, remit_list, receipt)


def credit_list(session: Session, remit_list: RemitList, receipt: Receipt) -> None:
    """Post the list: suspense → every member, one set-based voucher; advance 缴至年月."""
    employer = session.get(Employer, remit_list.employer_id, with_for_update=True)
    source = (repository.list_credit_source() if remit_list.kind != "supplement"
              else repository.supplement_credit_source())
    voucher = bulk.bulk_credit(
        session, remit_list.kind, source, {"list_id": remit_list.id},
        debit_account_id=receipt.suspense_account_id, value_date=_value_date(receipt.arrived_on),
        summary=f"{ledger_domain.ENTRY_TYPES[remit_list.kind]}{remit_list.period} "
                f"{employer.unit_no}",
        memo=f"{ledger_domain.ENTRY_TYPES[remit_list.kind]}{remit_list.period}",
        command_id=remit_list.command_id,
    )
    remit_list.status = "credited"
    remit_list.receipt_id = receipt.id
    remit_list.voucher_id = voucher.id if voucher else None
    remit_list.credited_on = clock.today()
    receipt.status = "matched"
    receipt.matched_list_id = remit_list.id
    if remit_list.kind == "remit":
        employer.paid_through = remit_list.period
    session.flush()


def create_supplement(session: Session, employer: Employer, members: list[Member],
                      months: list[int], reason: str, command_id: int | None) -> RemitList:
    """A supplementary list (补缴清册) for past months at each member's base and ratios."""
    current = month_key(clock.today())
    limit = params.get(session, "deposit.supplement_max_months")
    unit = params.get(session, "deposit.rounding_unit")
    for m in months:
        domain.check_period(m, current)
        if m >= current:
            raise InvalidInput("补缴只能针对以前月份", code="SUPPLEMENT_NOT_PAST")
        if months_between(m, current) > limit:
            raise InvalidInput(f"补缴最长追溯{limit}个月", code="SUPPLEMENT_TOO_OLD")
    remit_list = RemitList(
        employer_id=employer.id, kind="supplement", period=min(months),
        seq=repository.next_seq(session, employer.id, "supplement", min(months)),
        status="confirmed", reference=_reference("supplement"), reason=reason[:200],
        command_id=command_id, confirmed_at=clock.now(),
    )
    session.add(remit_list)
    session.flush()
    for member in members:
        if member.employer_id != employer.id:
            raise Conflict("职工不属于本单位", code="MEMBER_OF_OTHER_EMPLOYER",
                           member_no=member.member_no)
        already = set(session.scalars(
            select(RemitLine.period).join(RemitList, RemitList.id == RemitLine.list_id).where(
                RemitLine.member_id == member.id, RemitLine.period.in_(months),
                RemitList.status == "credited")))
        for m in sorted(months):
            if m in already:
                raise Conflict(f"职工{member.name}的{m}月已缴存", code="MONTH_ALREADY_PAID",
                               member_no=member.member_no, period=m)
            amount = domain.monthly_amount(member.base_fen, member.unit_ratio_bps,
                                           member.member_ratio_bps, unit)
            session.add(RemitLine(
                list_id=remit_list.id, member_id=member.id, account_id=member.account_id,
                period=m, base_fen=member.base_fen, unit_ratio_bps=member.unit_ratio_bps,
                member_ratio_bps=member.member_ratio_bps, unit_fen=amount.unit_fen,
                member_fen=amount.member_fen, amount_fen=amount.total_fen))
    session.flush()
    repository.refresh_list_totals(session, remit_list)
    session.flush()
    return remit_list


def notify_arrears(session: Session) -> int:
    """Send an arrears notice to every employer that owes months (a monthly job)."""
    sent = 0
    for employer in session.scalars(select(Employer).where(Employer.status != U_CLOSED)):
        owed = arrears(session, employer)
        if owed["months"] and employer.contact_phone:
            send_sms(session, employer.contact_phone, "arrears",
                     f"{employer.name}：贵单位{owed['months'][0]}起欠缴住房公积金"
                     f"{len(owed['months'])}个月，请及时缴存。")
            sent += 1
    return sent
