"""Properties of the ledger over random histories (hypothesis, on SQLite copies).

Every voucher balances; member balances add up to the deposit liability; the settled interest
equals the product-sum formula computed from the history, to the fen.
"""

import itertools
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from hpf.catalog import params
from hpf.deposits.jobs import run_interest_settlement
from hpf.kit import clock
from hpf.kit.db import dispose_all, session_factory, transaction
from hpf.ledger import domain
from hpf.ledger import service as ledger
from hpf.ledger.models import LedgerAccount, LedgerSubject
from hpf.ledger.verify import verify
from support.databases import clone_sqlite

YEAR_START = date(2025, 7, 1)
_copies = itertools.count()

# One move: (account index, day offset in the interest year, signed amount in fen).
moves_strategy = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 364), st.integers(-500_000, 2_000_000)
              .filter(lambda x: x != 0)),
    min_size=1, max_size=25,
)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=moves_strategy)
def test_random_history_balances_and_interest(sqlite_template: Path, tmp_path: Path, moves):
    url = clone_sqlite(sqlite_template, tmp_path / f"p{next(_copies)}.sqlite3")
    try:
        _check(url, moves)
    finally:
        dispose_all()


def _check(url: str, moves: list[tuple[int, int, int]]) -> None:
    with clock.frozen(YEAR_START), transaction(url) as s:
        ledger.ensure_chart(s)
        params.seed_defaults(s)
        bank = ledger.system_account(s, domain.BANK_SETTLEMENT, "bank").id
        accounts = [ledger.open_account(s, domain.MEMBER_DEPOSITS, f"m{i}",
                                        owner_kind="member").id for i in range(3)]
    history: dict[int, list[tuple[date, int]]] = {a: [] for a in accounts}
    balances = dict.fromkeys(accounts, 0)
    for index, offset, amount in sorted(moves, key=lambda m: m[1]):
        account = accounts[index]
        if balances[account] + amount < 0:
            amount = -balances[account]  # withdraw what is there, never overdraw
        if amount == 0:
            continue
        day = YEAR_START + timedelta(days=offset)
        side_member = domain.CREDIT if amount > 0 else domain.DEBIT
        side_bank = domain.DEBIT if amount > 0 else domain.CREDIT
        with clock.frozen(day), transaction(url) as s:
            ledger.post(s, "remit" if amount > 0 else "withdrawal",
                        [domain.Line(account, side_member, abs(amount)),
                         domain.Line(bank, side_bank, abs(amount))],
                        summary="property", value_date=day)
        balances[account] += amount
        history[account].append((day, amount))
    with transaction(url) as s:
        report = verify(s)
        assert report.ok, report.problems
        liability = s.get(LedgerSubject, domain.MEMBER_DEPOSITS).balance_fen
        assert liability == sum(balances.values())
    settle = date(2026, 6, 30)
    with clock.frozen(settle):
        run_interest_settlement(session_factory(url), settle)
    start, end = domain.interest_year_bounds(2025)
    rates = [(date(2016, 2, 21), 15_000)]
    with transaction(url) as s:
        for account in accounts:
            expected = domain.interest_fen(0, start, end, history[account],
                                           domain.rates_in_force(rates, start, end))
            row = s.scalars(select(LedgerAccount).where(LedgerAccount.id == account)).one()
            assert row.last_interest_fen == expected
            assert row.balance_fen == balances[account] + expected
        assert verify(s).ok
