"""Ledger use cases: open accounts, post and reverse vouchers, reserve money.

Every change of money in the platform passes through here. Balances move in the same
transaction as the postings, with the accounts locked (SELECT ... FOR UPDATE on PostgreSQL;
SQLite serialises writers with BEGIN IMMEDIATE). Services flush; the caller commits.
"""

from collections import defaultdict
from datetime import date

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hpf.kit import clock
from hpf.kit.errors import Conflict, HpfError, InvalidInput
from hpf.ledger import domain
from hpf.ledger.domain import CHART, Line
from hpf.ledger.models import LedgerAccount, LedgerSubject, Posting, Reservation, Voucher


class LedgerError(HpfError):
    status = 409
    code = "LEDGER_REFUSED"
    message = "账务处理被拒绝"


def ensure_chart(session: Session) -> None:
    """Create the chart of accounts rows that are missing."""
    have = set(session.scalars(select(LedgerSubject.code)))
    for code, zh, en, side, kind in CHART:
        if code not in have:
            session.add(
                LedgerSubject(code=code, name_zh=zh, name_en=en, normal_side=side, kind=kind)
            )
    session.flush()


def open_account(
    session: Session,
    subject_code: str,
    name: str,
    *,
    owner_kind: str | None = None,
    owner_id: int | None = None,
    opened_on: date | None = None,
) -> LedgerAccount:
    """Open an account under a subject; member deposit accounts start accruing interest."""
    opened_on = opened_on or clock.today()
    account = LedgerAccount(
        subject_code=subject_code,
        name=name[:128],
        owner_kind=owner_kind,
        owner_id=owner_id,
        opened_on=opened_on,
        balance_fen=0,
        reserved_fen=0,
        accrual_fen_days=0,
        year_open_balance_fen=0,
        last_interest_fen=0,
        accrual_year=(
            domain.interest_year_of(opened_on)
            if subject_code == domain.MEMBER_DEPOSITS
            else None
        ),
    )
    session.add(account)
    session.flush()
    return account


def system_account(session: Session, subject_code: str, owner_kind: str = "centre",
                   owner_id: int | None = None, name: str | None = None) -> LedgerAccount:
    """The (single) account of a subject for an owner, opened on first use.

    `system_key` is unique, so two transactions opening the same account at once cannot both
    succeed: the loser's savepoint rolls back and it reads the winner's row.
    """
    key = f"{subject_code}:{owner_kind}:{'' if owner_id is None else owner_id}"
    account = session.scalars(select(LedgerAccount).where(LedgerAccount.system_key == key)).first()
    if account is not None:
        return account
    subject = session.get(LedgerSubject, subject_code)
    if subject is None:
        ensure_chart(session)
        subject = session.get(LedgerSubject, subject_code)
    try:
        with session.begin_nested():
            account = open_account(session, subject_code, name or subject.name_zh,
                                   owner_kind=owner_kind, owner_id=owner_id)
            account.system_key = key
            session.flush()
    except IntegrityError:
        account = session.scalars(
            select(LedgerAccount).where(LedgerAccount.system_key == key)).one()
    return account


def accrual_days(account: LedgerAccount, value_date: date) -> int:
    """Days from a value date to the end of the account's open interest year (0 if none).

    Refuses a value date outside the open year: before it would reopen a settled year, after
    it would skip a settlement that has not run yet.
    """
    if account.accrual_year is None:
        return 0
    start, end = domain.interest_year_bounds(account.accrual_year)
    if value_date < start:
        raise LedgerError("记账日期早于已结息年度，不能倒起息", code="LEDGER_VALUE_DATE_SETTLED")
    if value_date >= end:
        raise LedgerError(
            "上一结息年度尚未结息，暂不能记入新年度", code="LEDGER_YEAR_NOT_SETTLED"
        )
    return (end - value_date).days


def _lock_accounts(session: Session, ids: list[int]) -> dict[int, LedgerAccount]:
    stmt = (
        select(LedgerAccount)
        .where(LedgerAccount.id.in_(sorted(set(ids))))
        .order_by(LedgerAccount.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    accounts = {a.id: a for a in session.scalars(stmt)}
    missing = set(ids) - accounts.keys()
    if missing:
        raise LedgerError("账户不存在", code="LEDGER_NO_ACCOUNT", accounts=sorted(missing))
    return accounts


def post(
    session: Session,
    entry_type: str,
    lines: list[Line],
    *,
    summary: str,
    value_date: date | None = None,
    command_id: int | None = None,
    reverses_id: int | None = None,
    reason: str | None = None,
    allow_overdraft: bool = False,
) -> Voucher:
    """Post one balanced voucher: lock accounts, move balances, append postings."""
    if entry_type not in domain.ENTRY_TYPES:
        raise ValueError(f"unknown entry type {entry_type}")
    try:
        total = domain.check_lines(lines)
    except domain.UnbalancedVoucher as exc:
        raise LedgerError("凭证借贷不平衡", code="LEDGER_UNBALANCED", reason=str(exc)) from exc
    value_date = value_date or clock.today()
    accounts = _lock_accounts(session, [line.account_id for line in lines])
    sides = dict(session.execute(select(LedgerSubject.code, LedgerSubject.normal_side)).all())
    voucher = Voucher(
        entry_type=entry_type,
        posted_on=clock.today(),
        value_date=value_date,
        total_fen=total,
        line_count=len(lines),
        summary=summary[:200],
        command_id=command_id,
        reverses_id=reverses_id,
        reason=reason,
    )
    session.add(voucher)
    session.flush()
    subject_delta: dict[str, int] = defaultdict(int)
    postings = []
    for line in lines:
        account = accounts[line.account_id]
        if account.closed_on is not None:
            raise LedgerError("账户已销户", code="LEDGER_ACCOUNT_CLOSED", account=account.id)
        delta = line.amount_fen * domain.normal_sign(sides[account.subject_code], line.side)
        new_balance = account.balance_fen + delta
        if (
            delta < 0
            and not allow_overdraft
            and account.subject_code == domain.MEMBER_DEPOSITS
            and new_balance < account.reserved_fen
        ):
            raise LedgerError("账户可用余额不足", code="LEDGER_INSUFFICIENT", account=account.id)
        account.accrual_fen_days += delta * accrual_days(account, value_date)
        account.balance_fen = new_balance
        subject_delta[account.subject_code] += delta
        postings.append(
            Posting(
                voucher_id=voucher.id,
                account_id=account.id,
                side=line.side,
                amount_fen=line.amount_fen,
                balance_after_fen=new_balance,
                value_date=value_date,
                entry_type=entry_type,
                period=line.period,
                memo=(line.memo or "")[:100] or None,
            )
        )
    session.add_all(postings)
    _move_subjects(session, subject_delta)
    session.flush()
    return voucher


def _move_subjects(session: Session, deltas: dict[str, int]) -> None:
    # Core UPDATE on the table: the ORM bulk-update path would evaluate the statement against
    # every object in the session, which costs more than the statement itself in batch jobs.
    table = LedgerSubject.__table__
    for code, delta in sorted(deltas.items()):
        if delta:
            session.execute(
                update(table).where(table.c.code == code)
                .values(balance_fen=table.c.balance_fen + delta)
            )


def reverse(session: Session, voucher_id: int, reason: str,
            command_id: int | None = None) -> Voucher:
    """Post the mirror image of a voucher (冲正) with a reason; the original stays untouched."""
    if not reason or not reason.strip():
        raise InvalidInput("冲正必须说明原因", code="LEDGER_REASON_REQUIRED")
    original = session.get(Voucher, voucher_id)
    if original is None:
        raise LedgerError("凭证不存在", code="LEDGER_NO_VOUCHER")
    if original.reverses_id is not None:
        raise LedgerError("冲正凭证不能再冲正", code="LEDGER_REVERSAL_OF_REVERSAL")
    already = session.scalar(select(Voucher.id).where(Voucher.reverses_id == voucher_id))
    if already:
        raise Conflict("该凭证已冲正", code="LEDGER_ALREADY_REVERSED")
    rows = session.scalars(select(Posting).where(Posting.voucher_id == voucher_id)).all()
    lines = [
        Line(p.account_id, domain.CREDIT if p.side == domain.DEBIT else domain.DEBIT,
             p.amount_fen, p.period, f"冲正:{p.memo or ''}")
        for p in rows
    ]
    return post(
        session, "reversal", lines, summary=f"冲正凭证{voucher_id}: {reason}"[:200],
        value_date=max(original.value_date, _earliest_open_date(session, lines)),
        command_id=command_id, reverses_id=voucher_id, reason=reason[:200],
        allow_overdraft=False,
    )


def _earliest_open_date(session: Session, lines: list[Line]) -> date:
    years = session.scalars(
        select(LedgerAccount.accrual_year).where(
            LedgerAccount.id.in_([x.account_id for x in lines]),
            LedgerAccount.accrual_year.is_not(None),
        )
    ).all()
    if not years:
        return date.min
    return domain.interest_year_bounds(max(years))[0]


def available_fen(account: LedgerAccount) -> int:
    """Balance not held by reservations."""
    return account.balance_fen - account.reserved_fen


def reserve(session: Session, account_id: int, amount_fen: int, reference: str) -> Reservation:
    """Hold money for a pending decision; refuses when the available balance is short."""
    if amount_fen <= 0:
        raise InvalidInput("金额必须大于零", code="INVALID_AMOUNT")
    account = _lock_accounts(session, [account_id])[account_id]
    if available_fen(account) < amount_fen:
        raise LedgerError("账户可用余额不足", code="LEDGER_INSUFFICIENT", account=account_id)
    account.reserved_fen += amount_fen
    hold = Reservation(account_id=account_id, amount_fen=amount_fen, reference=reference[:64])
    session.add(hold)
    session.flush()
    return hold


def _settle_hold(session: Session, reservation_id: int) -> tuple[Reservation, LedgerAccount]:
    hold = session.get(Reservation, reservation_id, with_for_update=True)
    if hold is None or hold.status != "held":
        raise LedgerError("冻结款项不存在或已处理", code="LEDGER_NO_HOLD")
    account = _lock_accounts(session, [hold.account_id])[hold.account_id]
    account.reserved_fen -= hold.amount_fen
    hold.settled_at = clock.now()
    return hold, account


def held_by_reference(session: Session, reference: str) -> Reservation | None:
    """The live hold made for a reference (e.g. an application number)."""
    return session.scalars(select(Reservation).where(
        Reservation.reference == reference, Reservation.status == "held")).first()


def release(session: Session, reservation_id: int) -> Reservation:
    """Give reserved money back to the available balance."""
    hold, _ = _settle_hold(session, reservation_id)
    hold.status = "released"
    session.flush()
    return hold


def post_reservation(
    session: Session, reservation_id: int, entry_type: str, counter_account_id: int, *,
    summary: str, value_date: date | None = None, command_id: int | None = None,
) -> Voucher:
    """Turn a hold into a posting: debit the held account, credit the counter account."""
    hold, account = _settle_hold(session, reservation_id)
    hold.status = "posted"
    voucher = post(
        session, entry_type,
        [Line(account.id, domain.DEBIT, hold.amount_fen),
         Line(counter_account_id, domain.CREDIT, hold.amount_fen)],
        summary=summary, value_date=value_date, command_id=command_id,
    )
    hold.voucher_id = voucher.id
    session.flush()
    return voucher


def interest_to_date_fen(session: Session, account: LedgerAccount, on: date,
                         rates: list[tuple[date, int]]) -> int:
    """Interest of the open year up to `on` (exclusive) for a closing account (销户结息).

    `rates` are the year's rate segments (effective_from, rate_ppm). Under one rate the
    product-sum gives it directly: it runs to year end assuming today's balance stays, so
    removing the balance's days from `on` to year end leaves the product-sum up to `on`. When
    the rate changed inside the year, each day counts at its own rate, from the postings.
    """
    if account.accrual_year is None:
        return 0
    start, end = domain.interest_year_bounds(account.accrual_year)
    in_force = [(since, rate) for since, rate in rates if since < on]
    if not in_force or in_force[0][0] > start:
        raise ValueError("no interest rate in force at the start of the year")
    if len(in_force) == 1:
        product = account.accrual_fen_days - account.balance_fen * (end - on).days
        if product <= 0:
            return 0
        return domain.round_half_up(product * in_force[0][1], domain.DAY_BASIS * domain.PPM)
    signed = case((Posting.side == domain.CREDIT, Posting.amount_fen), else_=-Posting.amount_fen)
    moves = session.execute(
        select(Posting.value_date, signed).where(Posting.account_id == account.id,
                                                 Posting.value_date >= start)).all()
    opening = account.balance_fen - sum(delta for _, delta in moves)
    numerator = opening * domain.weighted_days(start, on, in_force) + sum(
        delta * domain.weighted_days(day, on, in_force) for day, delta in moves if day < on)
    if numerator <= 0:
        return 0
    return domain.round_half_up(numerator, domain.DAY_BASIS * domain.PPM)


def pay_interest_to_date(session: Session, account_id: int, on: date,
                         rates: list[tuple[date, int]], command_id: int | None = None) -> int:
    """Post the interest accrued up to `on` on a member account that is about to close."""
    account = _lock_accounts(session, [account_id])[account_id]
    interest = interest_to_date_fen(session, account, on, rates)
    if interest > 0:
        expense = system_account(session, domain.INTEREST_EXPENSE)
        post(session, "close_interest",
             [Line(expense.id, domain.DEBIT, interest), Line(account_id, domain.CREDIT, interest)],
             summary="销户结息", value_date=on, command_id=command_id)
    return interest


def suspend_accrual(session: Session, account_id: int) -> None:
    """Take a member account out of its interest year once its interest to date is paid and
    its balance is on its way out (a closing withdrawal awaiting the bank): the year's
    settlement must not pay those days a second time. `resume_accrual` puts it back."""
    account = _lock_accounts(session, [account_id])[account_id]
    account.accrual_year, account.accrual_fen_days = None, 0
    session.flush()


def resume_accrual(session: Session, account_id: int, year: int) -> None:
    """Put a suspended account back into interest year `year`, its opening balance and
    product-sum recomputed from its postings of that year (as `hpf ledger verify` does)."""
    account = _lock_accounts(session, [account_id])[account_id]
    start, end = domain.interest_year_bounds(year)
    signed = case((Posting.side == domain.CREDIT, Posting.amount_fen), else_=-Posting.amount_fen)
    moves = [(day, int(delta)) for day, delta in session.execute(
        select(Posting.value_date, signed).where(Posting.account_id == account_id,
                                                 Posting.value_date >= start))]
    opening = account.balance_fen - sum(delta for _, delta in moves)
    account.accrual_year = year
    account.year_open_balance_fen = opening
    account.accrual_fen_days = domain.product_sum(opening, start, end, moves)
    session.flush()


def close_account(session: Session, account_id: int, on: date) -> None:
    """Close an emptied account; nothing can be posted to it afterwards."""
    account = _lock_accounts(session, [account_id])[account_id]
    if account.balance_fen != 0 or account.reserved_fen != 0:
        raise LedgerError("账户余额未清，不能销户", code="LEDGER_NOT_EMPTY")
    account.closed_on = on
    session.flush()
