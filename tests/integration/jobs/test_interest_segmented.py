"""A rate change inside an interest year: each day earns at its own rate."""

from datetime import date

from sqlalchemy import select

from hpf.catalog import params
from hpf.deposits.jobs import run_interest_settlement
from hpf.kit import clock
from hpf.kit.db import session_factory, transaction
from hpf.ledger import domain
from hpf.ledger import service as ledger
from hpf.ledger.models import LedgerAccount
from hpf.ledger.verify import verify


def _post(url, account, bank, day, amount):
    with clock.frozen(day), transaction(url) as s:
        member_side = domain.CREDIT if amount > 0 else domain.DEBIT
        bank_side = domain.DEBIT if amount > 0 else domain.CREDIT
        ledger.post(s, "remit" if amount > 0 else "withdrawal",
                    [domain.Line(account, member_side, abs(amount)),
                     domain.Line(bank, bank_side, abs(amount))], summary="t", value_date=day)


def test_segmented_settlement_matches_the_day_by_day_formula(db_url):
    with clock.frozen(date(2025, 7, 1)), transaction(db_url) as s:
        ledger.ensure_chart(s)
        params.seed_defaults(s)
        # The rate rises from 1.5% to 2% on 1 January 2026, inside the 2025 interest year.
        params.set_value(s, "interest.annual_rate_ppm", date(2026, 1, 1), 20_000)
        bank = ledger.system_account(s, domain.BANK_SETTLEMENT, "bank").id
        a = ledger.open_account(s, domain.MEMBER_DEPOSITS, "a", owner_kind="member").id
        b = ledger.open_account(s, domain.MEMBER_DEPOSITS, "b", owner_kind="member").id
    moves = {a: [(date(2025, 7, 1), 1_000_000), (date(2025, 12, 20), 500_000),
                 (date(2026, 3, 3), -300_000)],
             b: [(date(2026, 6, 30), 700_000)]}
    for account, rows in moves.items():
        for day, amount in rows:
            _post(db_url, account, bank, day, amount)
    # By hand for a (fen × days × ppm):
    #   Jul 1-Dec 19 (172 d) 1 000 000 @1.5%; Dec 20-31 (12 d) 1 500 000 @1.5%;
    #   Jan 1-Mar 2 (61 d) 1 500 000 @2%; Mar 3-Jun 30 (120 d) 1 200 000 @2%
    #   = (172e6×15000 + 18e6×15000 + 91.5e6×20000 + 144e6×20000) / 360e6
    #   = (2 580e9 + 270e9 + 1 830e9 + 2 880e9) / 360e6 = 7 560e9 / 360e6 = 21 000
    start, end = domain.interest_year_bounds(2025)
    rates = [(date(2025, 7, 1), 15_000), (date(2026, 1, 1), 20_000)]
    expected = {acc: domain.interest_fen(0, start, end, rows, rates) for acc, rows in moves.items()}
    assert expected[a] == 21_000
    # b: 700 000 for 1 day at 2%: 700 000 × 20 000 / 360e6 = 38.9 -> 39
    assert expected[b] == 39
    with clock.frozen(date(2026, 6, 30)):
        result = run_interest_settlement(session_factory(db_url), date(2026, 6, 30))
    with transaction(db_url) as s:
        got = {acc: s.get(LedgerAccount, acc).last_interest_fen for acc in expected}
    assert got == expected
    assert result.amount_fen == expected[a] + expected[b]
    with transaction(db_url) as s:
        for account, want in expected.items():
            row = s.scalars(select(LedgerAccount).where(LedgerAccount.id == account)).one()
            assert row.last_interest_fen == want
            assert row.accrual_year == 2026
        assert verify(s).ok, verify(s).problems


def test_a_year_without_a_rate_is_a_clear_refusal(db_url):
    """Interest needs a rate in force from the year's first day; a gap names the year."""
    import pytest

    from hpf.deposits.jobs import year_rates
    from hpf.kit.errors import Conflict

    with transaction(db_url) as s:
        params.seed_defaults(s)
        assert year_rates(s, 2016) == [(date(2016, 7, 1), 15_000)]
        with pytest.raises(Conflict) as refused:
            year_rates(s, 2015)  # the default rate starts on 2016-02-21, inside that year
    assert refused.value.code == "INTEREST_RATE_MISSING" and refused.value.status == 409
    assert refused.value.details == {"year": 2015}
