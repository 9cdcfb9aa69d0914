"""Paying approved withdrawals through the banks: instruction files out, statements back.

`make_batches` groups approved applications by bank into instruction files
(hpf.exchange.bank_files) and records each batch before it is sent, so a batch whose submission
failed or whose answer was lost is sent again with the same bytes (`submit_pending`).
`reconcile` reads each bank's statement: a paid line moves the money from payouts pending to the
bank; a failed line returns the money to the member's account. Each outcome sends the member a
notice. A payout the statement does not answer for stays pending until the bank's next
statement of the batch says what became of it.
"""

import hashlib
import json
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hpf.config import get_settings
from hpf.deposits.models import M_WITHDRAWN_CLOSED, Member
from hpf.exchange import bank_files
from hpf.kit import clock
from hpf.kit.errors import Conflict
from hpf.kit.money import format_yuan
from hpf.ledger import domain as ledger_domain
from hpf.ledger import service as ledger
from hpf.ledger.models import LedgerAccount, Voucher
from hpf.notices.service import send_sms
from hpf.withdrawals import kinds
from hpf.withdrawals.models import (
    APPROVED,
    DISPUTED,
    FAILED,
    PAID,
    PAYING,
    WdApplication,
    WdPayoutBatch,
)

MAX_LINES_PER_BATCH = 5000


def make_batches(session: Session, today: date | None = None) -> list[str]:
    """File every approved application into a new batch per bank; the new batch numbers."""
    today = today or clock.today()
    made: list[str] = []
    banks = session.scalars(select(WdApplication.bank_code).where(
        WdApplication.status == APPROVED).distinct().order_by(WdApplication.bank_code)).all()
    for bank in banks:
        while True:
            apps = session.scalars(
                select(WdApplication).where(WdApplication.status == APPROVED,
                                            WdApplication.bank_code == bank)
                .order_by(WdApplication.id).limit(MAX_LINES_PER_BATCH).with_for_update()).all()
            if not apps:
                break
            made.append(_new_batch(session, bank, apps, today))
    return made


def _new_batch(session: Session, bank: str, apps: list[WdApplication], today: date) -> str:
    taken = session.scalar(select(func.count()).select_from(WdPayoutBatch).where(
        WdPayoutBatch.bank_code == bank, WdPayoutBatch.created_on == today)) or 0
    batch_no = f"WD{today:%Y%m%d}{bank}{taken + 1:04d}"
    for seq, app in enumerate(apps, start=1):
        app.status, app.batch_no, app.batch_seq = PAYING, batch_no, seq
    content = batch_file(batch_no, today, apps)
    session.add(WdPayoutBatch(
        batch_no=batch_no, bank_code=bank, created_on=today, count=len(apps),
        total_fen=sum(a.amount_fen for a in apps), status="created",
        sha256=hashlib.sha256(content).hexdigest()))
    session.flush()
    return batch_no


def batch_file(batch_no: str, created_on: date, apps: list[WdApplication]) -> bytes:
    """The instruction file of a batch, rebuilt byte for byte from its applications."""
    items = [bank_files.PayoutInstruction(
        seq=a.batch_seq, reference=a.application_no, bank_code=a.bank_code, card_no=a.card_no,
        account_name=a.account_name, amount_fen=a.amount_fen, memo=kinds.kind(a.kind).name_zh)
        for a in sorted(apps, key=lambda a: a.batch_seq)]
    return bank_files.write_batch(batch_no, created_on, get_settings().payout_account_no, items)


def _apps_of(session: Session, batch_no: str) -> list[WdApplication]:
    return list(session.scalars(select(WdApplication).where(WdApplication.batch_no == batch_no)
                                .order_by(WdApplication.batch_seq)))


def submit_pending(session: Session, exchange, only: str | None = None) -> list[str]:
    """Send every batch (or `only` one) not yet acknowledged, the same bytes each time; the
    batches sent."""
    sent = []
    stmt = select(WdPayoutBatch).where(WdPayoutBatch.status == "created")
    if only is not None:
        stmt = stmt.where(WdPayoutBatch.batch_no == only)
    for batch in session.scalars(stmt.order_by(WdPayoutBatch.batch_no).with_for_update()).all():
        content = batch_file(batch.batch_no, batch.created_on, _apps_of(session, batch.batch_no))
        if hashlib.sha256(content).hexdigest() != batch.sha256:
            raise RuntimeError(f"batch {batch.batch_no} no longer matches its record")
        exchange.submit(batch.bank_code, batch.batch_no, content)
        batch.status = "submitted"
        sent.append(batch.batch_no)
    session.flush()
    return sent


def reconcile(session: Session, exchange, today: date | None = None,
              only: str | None = None) -> dict:
    """Match every submitted batch's (or `only` one's) statement, when the bank has one.

    A batch is settled when every payout in it has the bank's answer. A statement that leaves
    some out settles the rest; those wait, in payouts pending, for the bank's next statement
    of the batch (read again by every run), because a payout the bank has not answered for
    may have been paid: returning it would pay the member twice."""
    today = today or clock.today()
    summary = {"batches": 0, "paid": 0, "failed": 0, "problems": [], "waiting": []}
    stmt = select(WdPayoutBatch).where(WdPayoutBatch.status == "submitted")
    if only is not None:
        stmt = stmt.where(WdPayoutBatch.batch_no == only)
    for batch in session.scalars(stmt.order_by(WdPayoutBatch.batch_no).with_for_update()).all():
        content = exchange.statement(batch.bank_code, batch.batch_no)
        if content is None:
            continue  # not processed by the bank yet
        statement = bank_files.read_statement(content)
        paid, failed, problems, waiting = _match(session, batch, statement, today)
        outcomes = dict(session.execute(
            select(WdApplication.status, func.count()).where(
                WdApplication.batch_no == batch.batch_no).group_by(WdApplication.status)).all())
        batch.paid_count, batch.failed_count = outcomes.get(PAID, 0), outcomes.get(FAILED, 0)
        if not waiting:
            batch.status, batch.settled_on = "settled", today
        batch.problems = json.dumps(problems, ensure_ascii=False) if problems else None
        summary["batches"] += 1
        summary["paid"] += paid
        summary["failed"] += failed
        summary["problems"] += problems
        summary["waiting"] += waiting
    session.flush()
    return summary


def _match(session: Session, batch: WdPayoutBatch, statement, today: date):
    """(paid now, returned now, problems, the application numbers still without an answer)."""
    apps = {a.application_no: a for a in _apps_of(session, batch.batch_no)}
    paid = failed = 0
    problems: list[str] = []
    if (statement.batch_no, statement.bank_code) != (batch.batch_no, batch.bank_code):
        # Another batch's statement: match nothing, the batch waits for its own.
        raise Conflict(f"批次{batch.batch_no}的回单文件属于{statement.bank_code}的批次"
                       f"{statement.batch_no}，未处理", code="BANK_STATEMENT_MISMATCH",
                       batch_no=batch.batch_no)
    answered: set[str] = set()
    for line in statement.lines:
        app = apps.get(line.reference)
        if app is None:
            problems.append(f"{batch.batch_no}#{line.seq}: 回单所列 {line.reference} 不在本批次")
            continue
        if line.reference in answered:
            problems.append(f"{batch.batch_no}#{line.seq}: {line.reference} 在回单中重复出现，已忽略")
            continue
        answered.add(line.reference)
        if app.status != PAYING:
            # Settled by an earlier statement of this batch (the bank resent it whole).
            if not _same_answer(app, line):
                problems.append(f"{batch.batch_no}#{line.seq}: {line.reference} 的回单结果与"
                                f"已处理结果不一致，待人工核对")
            continue
        if line.amount_fen != app.amount_fen and line.succeeded:
            # The bank says it paid, another amount: neither paid nor returned until staff have
            # checked with the bank; the money stays in payouts pending.
            app.status = DISPUTED
            app.bank_txn_id, app.failure_reason = line.bank_txn_id[:64], "回单金额与指令不符，待人工核对"
            problems.append(f"{batch.batch_no}#{line.seq}: 银行回单称已付 {line.amount_fen} 分，"
                            f"指令为 {app.amount_fen} 分，待人工核对")
        elif line.succeeded:
            _paid(session, app, line.bank_txn_id, line.value_date or today)
            paid += 1
        elif _returned(session, app, line.result_code, line.reason or "银行付款失败", today):
            failed += 1
        else:
            problems.append(f"{batch.batch_no}#{line.seq}: {app.application_no} 付款失败，但"
                            f"公积金账户已销户，款项暂挂待付，待人工退款")
    waiting = [a.application_no for a in apps.values()
               if a.status == PAYING and a.application_no not in answered]
    for number in waiting:
        problems.append(f"{batch.batch_no}#{apps[number].batch_seq}: 回单缺少 {number}，"
                        f"款项暂挂待付，等待银行补发回单")
    return paid, failed, problems, waiting


def _same_answer(app: WdApplication, line) -> bool:
    """True when a statement line repeats what an earlier statement already settled."""
    if app.status == PAID:
        return line.succeeded and line.amount_fen == app.amount_fen and (
            line.bank_txn_id[:64] == app.bank_txn_id)
    if app.status == FAILED:
        return not line.succeeded
    if app.status == DISPUTED and not line.succeeded:
        return app.bank_txn_id is None  # failed after its account closed (_returned)
    return app.status == DISPUTED and line.succeeded and line.bank_txn_id[:64] == app.bank_txn_id


def settle_paid(session: Session, app: WdApplication, bank_txn_id: str, value_date: date) -> None:
    """The bank paid the instructed amount: 2190 to the bank, a closing kind closes the account."""
    _paid(session, app, bank_txn_id, value_date)


def settle_returned(session: Session, app: WdApplication, code: str, reason: str,
                    today: date) -> bool:
    """The bank paid nothing: the money back to the member's account (False: it is closed)."""
    return _returned(session, app, code, reason, today)


def _paid(session: Session, app: WdApplication, bank_txn_id: str, value_date: date) -> None:
    pending = ledger.system_account(session, ledger_domain.PAYOUT_PENDING)
    bank = ledger.system_account(session, ledger_domain.BANK_SETTLEMENT, "bank", None,
                                 "委托银行结算户")
    ledger.post(session, "withdrawal_paid",
                [ledger_domain.Line(pending.id, ledger_domain.DEBIT, app.amount_fen),
                 ledger_domain.Line(bank.id, ledger_domain.CREDIT, app.amount_fen,
                                    memo=bank_txn_id[:64])],
                summary=f"提取付款 {app.application_no}", command_id=app.command_id)
    app.status, app.bank_txn_id, app.paid_on = PAID, bank_txn_id[:64], value_date
    member = session.get(Member, app.member_id)
    if app.closes_account:
        _close(session, member, app, value_date)
    _notify(session, member, f"您的{kinds.kind(app.kind).name_zh}申请{app.application_no}"
            f"已付款{format_yuan(app.amount_fen)}元至尾号{app.card_no[-4:]}的银行卡。")


def _close(session: Session, member: Member, app: WdApplication, on: date) -> None:
    """Close the account a closing withdrawal emptied; money that arrived since (a late
    remittance) keeps it open for staff to pay out, with a problem on the batch."""
    try:
        with session.begin_nested():
            ledger.close_account(session, member.account_id, on)
    except ledger.LedgerError:
        # Out of its interest year since approval (its interest was paid to date): the late
        # money waits, without interest, for staff to pay it out with a closing withdrawal.
        app.failure_reason = "付款后账户又有入账（暂不计息），未销户，请人工处理"
        return
    member.status, member.closed_on = M_WITHDRAWN_CLOSED, on


def _returned(session: Session, app: WdApplication, code: str, reason: str, today: date) -> bool:
    """Return a failed payout to the member's account; False when the account has since been
    closed (nothing can be posted to it): the money stays in payouts pending, the application
    is held as disputed for staff, and the rest of the batch is settled."""
    try:
        with session.begin_nested():
            _return(session, app, code, reason, today)
        return True
    except ledger.LedgerError as exc:
        if exc.code != "LEDGER_ACCOUNT_CLOSED":
            raise
    app.status, app.failure_code = DISPUTED, code[:8]
    app.failure_reason = "付款失败，但公积金账户已销户，待人工退款"
    return False


def _return(session: Session, app: WdApplication, code: str, reason: str, today: date) -> None:
    member = session.get(Member, app.member_id)
    account = session.get(LedgerAccount, member.account_id)
    pending = ledger.system_account(session, ledger_domain.PAYOUT_PENDING)
    # A closing withdrawal took the account out of its interest year when it paid the
    # interest to date (service.approve); older applications did not.
    suspended = app.closes_account and account.accrual_year is None
    value_date, interest_back = _return_terms(app, account, suspended, today)
    ledger.post(session, "withdrawal_return",
                [ledger_domain.Line(pending.id, ledger_domain.DEBIT, app.amount_fen),
                 ledger_domain.Line(member.account_id, ledger_domain.CREDIT, app.amount_fen)],
                summary=f"提取退回 {app.application_no}", value_date=value_date,
                command_id=app.command_id)
    if interest_back:
        # The account stays open: the interest to date paid with the closing goes back, or the
        # year's settlement (or the next closing) would pay those days a second time.
        interest = session.scalar(select(Voucher.id).where(
            Voucher.command_id == app.command_id, Voucher.entry_type == "close_interest",
            Voucher.reverses_id.is_(None)))
        if interest is not None:
            ledger.reverse(session, interest, "销户提取付款失败，账户未销户，退回销户结息",
                           command_id=app.command_id)
    if suspended:
        ledger.resume_accrual(session, account.id, ledger_domain.interest_year_of(today))
    app.status, app.failure_code, app.failure_reason = FAILED, code[:8], reason[:100]
    _notify(session, member, f"您的{kinds.kind(app.kind).name_zh}申请{app.application_no}"
            f"银行付款未成功（{reason}），{format_yuan(app.amount_fen)}元已退回公积金账户。")


def _return_terms(app: WdApplication, account: LedgerAccount, suspended: bool,
                  today: date) -> tuple[date, bool]:
    """(the returned money's value date, whether a closing's interest to date goes back).

    The money earns interest as if it had never left: back-dated to the day it was debited,
    and the interest to date paid then is taken back, since the year's settlement will pay
    those days. When that day lies in an interest year already settled (or, for a suspended
    account, an earlier year, whose settlement it sat out with its interest paid to date), the
    interest stays paid and the money counts from today."""
    debited = app.decided_on or today
    if suspended:
        same_year = ledger_domain.interest_year_of(debited) == ledger_domain.interest_year_of(today)
        return (debited if same_year else today), same_year and bool(app.interest_fen)
    if account.accrual_year is not None:
        start, _ = ledger_domain.interest_year_bounds(account.accrual_year)
        if debited < start:
            return today, app.closes_account and bool(app.interest_fen)
    return debited, app.closes_account and bool(app.interest_fen)


def _notify(session: Session, member: Member, text: str) -> None:
    if member.phone:
        send_sms(session, member.phone, "withdrawal", text)
