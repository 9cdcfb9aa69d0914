"""Deposit batch jobs: annual interest settlement (年度结息)."""

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hpf.catalog import params
from hpf.config import get_settings
from hpf.jobs.runner import JobResult, id_ranges, run_job
from hpf.kit.errors import Conflict, InvalidInput
from hpf.ledger import bulk
from hpf.ledger import domain as ledger_domain
from hpf.ledger import service as ledger
from hpf.ledger.models import LedgerAccount


def settlement_year(settle_date: date) -> int:
    """The interest year a 30 June settlement date closes."""
    if (settle_date.month, settle_date.day) != (6, 30):
        raise InvalidInput("结息日应为6月30日", code="INVALID_SETTLEMENT_DATE")
    return settle_date.year - 1


def year_rates(session: Session, year: int | None) -> list[tuple[date, int]]:
    """The rate segments of an interest year (one row unless the rate changed inside it);
    none for an account out of its interest year (its interest is paid to date)."""
    if year is None:
        return []
    start, end = ledger_domain.interest_year_bounds(year)
    table = params.history(session, "interest.annual_rate_ppm")
    try:
        return ledger_domain.rates_in_force(table, start, end)
    except ValueError:
        # A parameter gap, not a bug: say which year lacks its rate instead of a 500.
        raise Conflict(f"{year}年度的住房公积金存款利率未设定，请先维护利率参数",
                       code="INTEREST_RATE_MISSING", year=year) from None


def run_interest_settlement(factory: sessionmaker[Session], settle_date: date, *,
                            chunk_size: int | None = None,
                            show_progress: bool = False) -> JobResult:
    """Settle the interest year ending on settle_date for every open member account."""
    year = settlement_year(settle_date)
    size = chunk_size or get_settings().job_chunk_size

    def plan(session: Session) -> list:
        lo, hi = session.execute(
            select(func.min(LedgerAccount.id), func.max(LedgerAccount.id)).where(
                LedgerAccount.subject_code == ledger_domain.MEMBER_DEPOSITS,
                LedgerAccount.accrual_year == year)
        ).one()
        return id_ranges(lo, hi, size)

    def chunk(session: Session, spec: list[int], marker: int) -> tuple[int, int]:
        rates = year_rates(session, year)
        expense = ledger.system_account(session, ledger_domain.INTEREST_EXPENSE)
        if len(rates) == 1:
            return bulk.settle_interest_range(session, year, spec[0], spec[1], rates[0][1],
                                              expense.id, run_marker=marker)
        return bulk.settle_interest_range_segmented(session, year, spec[0], spec[1], rates,
                                                    expense.id, run_marker=marker)

    return run_job(factory, "interest-settlement", settle_date.isoformat(), plan, chunk,
                   show_progress=show_progress)
