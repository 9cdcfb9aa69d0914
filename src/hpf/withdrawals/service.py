"""Withdrawal use cases: apply (check, assess, reserve), decide (post or release), and the
scheduled monthly rent withdrawal.

The gateway runs `apply` as the service's review step inside the application's transaction:
every refusal raises before anything is written, so a refused application reserves nothing.
An application that passes reserves its amount and either goes straight on to `approve` (the
automatic review found every fact it needs) or waits for staff; `reject` gives the money back.
"""

import json
from dataclasses import asdict, is_dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.deposits.jobs import year_rates
from hpf.deposits.models import M_FROZEN, Member
from hpf.exchange.bank import bank_adapter
from hpf.gateway.registry import Ctx
from hpf.kit import clock, workdays
from hpf.kit.errors import Conflict, HpfError, InvalidInput
from hpf.kit.money import format_yuan
from hpf.ledger import domain as ledger_domain
from hpf.ledger import service as ledger
from hpf.ledger.models import LedgerAccount
from hpf.notices.service import send_sms
from hpf.withdrawals import gather, kinds
from hpf.withdrawals.models import (
    APPROVED,
    DISPUTED,
    PAYING,
    REJECTED,
    REVIEWING,
    WdApplication,
    WdSchedule,
)
from hpf.withdrawals.schemas import Withdraw

DECISION_WORKDAYS = 3  # 2026 regulation: decided within 3 working days of a complete application


class WithdrawalRefused(HpfError):
    status = 422
    code = "WITHDRAWAL_REFUSED"
    message = "提取申请不符合条件"


def application_no(command_id: int) -> str:
    """The application number a member sees (the gateway's 业务流水号)."""
    return f"YW{command_id:012d}"


def prepare(ctx: Ctx, kind: str, p: Withdraw, member: Member) -> gather.Asked:
    """The outside questions of an application, asked before its transaction (the gateway's
    prepare step): the checks a caller meets first, the payee's card at the bank, then the
    shared sources the kind's rules read."""
    payee_name, payee_id = _check_request(kind, p, member)
    _check_card(ctx.session, p.bank_code, p.card_no, payee_name, payee_id)
    return gather.ask(ctx.session, kind, member, clock.today())


def apply(ctx: Ctx, kind: str, p: Withdraw, member: Member) -> int:
    """Check and assess an application, reserve its money and file it; the approvals it needs
    (0: approved by the automatic review at once). The answers of `prepare` are used when
    they are about the member as this transaction reads it; otherwise they are asked now."""
    today = clock.today()
    spec = kinds.kind(kind)
    payee_name, payee_id = _check_request(kind, p, member)
    asked = ctx.prepared if isinstance(ctx.prepared, gather.Asked) else None
    if asked is None or not asked.fits(kind, member):
        asked = None
        _check_card(ctx.session, p.bank_code, p.card_no, payee_name, payee_id)
    account = ctx.session.get(LedgerAccount, member.account_id)
    assessment = gather.assess(ctx.session, kind, member, account, p, ctx.channel, today,
                               asked)
    if assessment.refusals:
        first = assessment.refusals[0]
        raise WithdrawalRefused(
            first.message, code=first.code, kind=kind,
            refusals=[{"code": r.code, "message": r.message, **_plain(r.details)}
                      for r in assessment.refusals])
    number = application_no(ctx.command_id)
    if assessment.closes_account:
        amount = ledger.available_fen(account)
        if amount <= 0 or account.reserved_fen:
            raise Conflict("账户有冻结或在途业务，不能销户提取", code="WD_ACCOUNT_HAS_HOLDS")
        _refuse_payout_in_flight(ctx.session, member.id)
    else:
        amount = assessment.allowed_fen
    if amount <= 0:
        raise WithdrawalRefused("账户没有可提取的金额", code="WD_NO_BALANCE")
    hold = ledger.reserve(ctx.session, account.id, amount, number)
    review = [{"code": r.code, "message": r.message} for r in assessment.review_reasons]
    app = WdApplication(
        command_id=ctx.command_id, application_no=number, member_id=member.id, kind=kind,
        reason_code=assessment.reason_code or spec.reason_code, channel=ctx.channel, route=assessment.route,
        status=REVIEWING, requested_fen=p.amount_fen, amount_fen=amount,
        closes_account=assessment.closes_account, bank_code=p.bank_code, card_no=p.card_no,
        account_name=payee_name, document_no=assessment.reference,
        details_json=json.dumps(_details(p, assessment), ensure_ascii=False, default=str),
        review_reasons=json.dumps(review, ensure_ascii=False) if review else None,
        reservation_id=hold.id, applied_on=today,
        due_on=workdays.add_workdays(today, DECISION_WORKDAYS))
    ctx.session.add(app)
    ctx.session.flush()
    ctx.due_on = app.due_on
    gather.consume_materials(ctx.session, member, p, kind, assessment, ctx.command_id,
                             ctx.channel)
    return approvals_needed(spec, assessment)


def _check_request(kind: str, p: Withdraw, member: Member) -> tuple[str, str]:
    """Refuse what no source needs asking about; the payee's (name, ID number)."""
    if member.status == M_FROZEN:
        raise Conflict("账户已被冻结，不能提取", code="WD_ACCOUNT_FROZEN")
    if p.schedule_months is not None and kind != "wd.rent":
        raise InvalidInput("只有租房提取可以签订约定提取", code="WD_SCHEDULE_NOT_ALLOWED")
    if (p.heir_name is not None) != (kind == "wd.death"):
        raise InvalidInput("死亡提取须由继承人办理并填写继承人信息" if kind == "wd.death"
                           else "只有死亡提取可以填写继承人", code="WD_HEIR_FIELDS")
    if kind == "wd.death":
        return p.heir_name, p.heir_id_number
    return member.name, member.id_number


def _refuse_payout_in_flight(session: Session, member_id: int) -> None:
    """A closing withdrawal waits until every earlier payout has the bank's answer: one that
    failed after the account closed could not come back to it."""
    waiting = session.scalar(select(WdApplication.application_no).where(
        WdApplication.member_id == member_id,
        WdApplication.status.in_((APPROVED, PAYING, DISPUTED))).limit(1))
    if waiting is not None:
        raise Conflict(f"提取{waiting}的款项尚在银行支付中，请待支付完成后再办理销户类提取",
                       code="WD_PAYOUT_IN_FLIGHT", application_no=waiting)


def approvals_needed(spec: kinds.Kind, assessment) -> int:
    """0 when the application can be decided at once: the shared data answered every question
    (online), or a clerk has seen the originals of a kind the data can decide (at the counter).
    Otherwise a reviewer other than the clerk decides: the kinds only the counter handles
    (their evidence is paper), review kinds, and any case a source could not answer."""
    if assessment.review_reasons:
        return 1
    if assessment.route == "auto":
        return 0
    return 1 if spec.mode == kinds.COUNTER else 0


def _check_card(session: Session, bank_code: str, card_no: str, name: str, id_number: str) -> None:
    """The payee's own active card at that bank (a bank that cannot answer is a 503: try
    again later, nothing was written)."""
    if not bank_adapter(session).card_holder_matches(bank_code, card_no, name, id_number):
        raise WithdrawalRefused("收款银行卡须为本人名下的有效借记卡", code="WD_CARD_NOT_OWN")


def _plain(details) -> dict:
    """A refusal's details as JSON-ready values (dates as ISO text)."""
    if details is None:
        return {}
    raw = asdict(details) if is_dataclass(details) else dict(details)
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in raw.items()}


def _details(p: Withdraw, assessment) -> dict:
    return {"rent_months": p.rent_months, "schedule_months": p.schedule_months,
            "invoice_nos": p.invoice_nos, "cap_fen": assessment.cap_fen,
            "materials": p.materials}


def by_command(session: Session, command_id: int, *, lock: bool = False) -> WdApplication:
    """The application filed under a gateway command."""
    stmt = select(WdApplication).where(WdApplication.command_id == command_id)
    app = session.scalars(stmt.with_for_update() if lock else stmt).first()
    if app is None:
        raise Conflict("提取申请不存在", code="WD_NO_APPLICATION")
    return app


def approve(ctx: Ctx, p: Withdraw) -> dict:
    """The decision to pay: the held money goes to payouts pending (the closing kinds first
    take their interest to date and the whole balance)."""
    session, today = ctx.session, clock.today()
    app = by_command(session, ctx.command_id, lock=True)
    if app.status != REVIEWING:
        raise Conflict("该提取申请已处理", code="WD_DECIDED", state=app.status)
    member = session.get(Member, app.member_id)
    if member.status == M_FROZEN:
        raise Conflict("账户已被冻结，不能提取", code="WD_ACCOUNT_FROZEN")
    pending = ledger.system_account(session, ledger_domain.PAYOUT_PENDING)
    summary = f"{kinds.kind(app.kind).name_zh} {app.application_no}"
    if app.closes_account:
        ledger.release(session, app.reservation_id)
        account = session.get(LedgerAccount, member.account_id)
        if account.reserved_fen:
            raise Conflict("账户有冻结或在途业务，不能销户提取", code="WD_ACCOUNT_HAS_HOLDS")
        app.interest_fen = ledger.pay_interest_to_date(
            session, account.id, today, year_rates(session, account.accrual_year),
            command_id=ctx.command_id)
        app.amount_fen = account.balance_fen
        voucher = ledger.post(session, "withdrawal",
                              [ledger_domain.Line(account.id, ledger_domain.DEBIT, app.amount_fen),
                               ledger_domain.Line(pending.id, ledger_domain.CREDIT,
                                                  app.amount_fen)],
                              summary=summary, value_date=today, command_id=ctx.command_id)
        # Its interest is paid to date: the year's settlement, which may come before the bank
        # answers, must not pay those days again (a returned payout resumes it).
        ledger.suspend_accrual(session, account.id)
    else:
        voucher = ledger.post_reservation(session, app.reservation_id, "withdrawal", pending.id,
                                          summary=summary, value_date=today,
                                          command_id=ctx.command_id)
    app.status, app.decided_on, app.voucher_id = APPROVED, today, voucher.id
    if p.schedule_months:
        _sign_schedule(session, app, member, p.schedule_months, today)
    session.flush()
    _notify(session, member, f"您的{kinds.kind(app.kind).name_zh}申请{app.application_no}已审批，"
            f"{format_yuan(app.amount_fen)}元将付至尾号{app.card_no[-4:]}的银行卡。")
    from hpf.withdrawals.queries import application_view

    return application_view(app)


def reject(ctx: Ctx, command_id: int, reason: str | None) -> None:
    """Staff said no: the held money is available again."""
    session = ctx.session
    app = by_command(session, command_id, lock=True)
    if app.status != REVIEWING:
        return
    if app.reservation_id is not None:
        hold = ledger.held_by_reference(session, app.application_no)
        if hold is not None:
            ledger.release(session, hold.id)
    app.status, app.decided_on = REJECTED, clock.today()
    app.decision_reason = (reason or "")[:300] or None
    member = session.get(Member, app.member_id)
    session.flush()
    _notify(session, member, f"您的{kinds.kind(app.kind).name_zh}申请{app.application_no}未通过审核"
            + (f"：{reason}" if reason else "。") )


def _sign_schedule(session: Session, app: WdApplication, member: Member, months: int,
                   today: date) -> None:
    # Signing again replaces the standing instruction (a new card, a new term): one at a time.
    for old in session.scalars(select(WdSchedule).where(
            WdSchedule.member_id == member.id, WdSchedule.status == "active").with_for_update()):
        old.status, old.ended_on = "cancelled", today
        old.last_error = f"由{app.application_no}重新签约取代"
    first = _next_period(today.year * 100 + today.month)
    last = first
    for _ in range(months - 1):
        last = _next_period(last)
    session.add(WdSchedule(member_id=member.id, kind=app.kind, bank_code=app.bank_code,
                           card_no=app.card_no, account_name=app.account_name,
                           first_period=first, last_period=last, status="active",
                           signed_on=today, command_id=app.command_id))


def _next_period(period: int) -> int:
    year, month = divmod(period, 100)
    return (year + 1) * 100 + 1 if month == 12 else period + 1


def _notify(session: Session, member: Member, text: str) -> None:
    if member.phone:
        send_sms(session, member.phone, "withdrawal", text)
