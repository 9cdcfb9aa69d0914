"""Read-side queries for statements and lists (no writes)."""

from datetime import date

from sqlalchemy import BigInteger, case, cast, func, select
from sqlalchemy.orm import Session

from hpf.deposits.models import Member, RemitLine, RemitList
from hpf.kit import clock
from hpf.ledger.models import Posting


def _signed():
    # Member deposit accounts are credit-normal: credits add, debits subtract.
    return case((Posting.side == "C", Posting.amount_fen), else_=-Posting.amount_fen)


def balance_before(session: Session, account_id: int, day: date) -> int:
    """Balance of an account from postings valued before a date."""
    return session.scalar(
        select(cast(func.coalesce(func.sum(_signed()), 0), BigInteger)).where(
            Posting.account_id == account_id, Posting.value_date < day)
    ) or 0


def postings_between(session: Session, account_id: int, start: date, end: date,
                     limit: int = 500) -> list[Posting]:
    """Postings of an account valued in [start, end), oldest first."""
    return list(session.scalars(
        select(Posting).where(Posting.account_id == account_id, Posting.value_date >= start,
                              Posting.value_date < end)
        .order_by(Posting.value_date, Posting.id).limit(limit)))


# No deposit month can be older than the housing provident fund itself (Shanghai, May 1991).
FIRST_PERIOD = 199105


def deposit_lines(session: Session, member_id: int, offset: int, limit: int) -> list[tuple]:
    """A member's credited remittance and supplement lines, newest month first."""
    # Lines are keyed (period, member_id, list_id): naming every possible month turns the
    # lookup into one index seek per month, where member_id alone would scan every line.
    current = clock.month_key(clock.today())
    months = [clock.add_months(FIRST_PERIOD, n)
              for n in range(clock.months_between(FIRST_PERIOD, current) + 1)]
    return list(session.execute(
        select(RemitLine.period, RemitList.kind, RemitLine.base_fen, RemitLine.unit_fen,
               RemitLine.member_fen, RemitLine.amount_fen, RemitList.credited_on)
        .join(RemitList, RemitList.id == RemitLine.list_id)
        .where(RemitLine.period.in_(months), RemitLine.member_id == member_id,
               RemitList.status == "credited")
        .order_by(RemitLine.period.desc(), RemitList.id.desc()).offset(offset).limit(limit)))


def employer_lists(session: Session, employer_id: int, offset: int, limit: int) -> list[RemitList]:
    """An employer's lists, newest first."""
    return list(session.scalars(
        select(RemitList).where(RemitList.employer_id == employer_id)
        .order_by(RemitList.id.desc()).offset(offset).limit(limit)))


def roster(session: Session, employer_id: int, status: str | None, offset: int,
           limit: int) -> list[tuple[Member, int]]:
    """Members of an employer with their balances."""
    from hpf.ledger.models import LedgerAccount

    stmt = (select(Member, LedgerAccount.balance_fen)
            .join(LedgerAccount, LedgerAccount.id == Member.account_id)
            .where(Member.employer_id == employer_id).order_by(Member.id))
    if status:
        stmt = stmt.where(Member.status == status)
    return [tuple(row) for row in session.execute(stmt.offset(offset).limit(limit))]
