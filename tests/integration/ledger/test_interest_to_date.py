"""Interest to date on closing an account mid-year (销户结息), also when the rate changed."""

from datetime import date

import pytest

from hpf.catalog import params
from hpf.kit import clock
from hpf.kit.db import transaction
from hpf.ledger import domain
from hpf.ledger import service as ledger
from hpf.ledger.models import LedgerAccount

YEAR_START = date(2025, 7, 1)


def _account(url: str) -> int:
    """100,000.00 on 1 July 2025 and 10,000.00 more on 15 September 2025."""
    with clock.frozen(YEAR_START), transaction(url) as s:
        ledger.ensure_chart(s)
        params.seed_defaults(s)
        bank = ledger.system_account(s, domain.BANK_SETTLEMENT, "bank").id
        member = ledger.open_account(s, domain.MEMBER_DEPOSITS, "m", owner_kind="member").id
        ledger.post(s, "remit", [domain.Line(bank, domain.DEBIT, 10_000_000),
                                 domain.Line(member, domain.CREDIT, 10_000_000)], summary="汇缴")
    with clock.frozen(date(2025, 9, 15)), transaction(url) as s:
        ledger.post(s, "remit", [domain.Line(bank, domain.DEBIT, 1_000_000),
                                 domain.Line(member, domain.CREDIT, 1_000_000)], summary="汇缴")
    return member


@pytest.mark.parametrize(("rates", "expected"), [
    # One rate, 1.5 %: 100,000 × 1.5 % × 243/360 + 10,000 × 1.5 % × 167/360
    #   = 1,012.50 + 69.583… = 1,082.08
    ([(YEAR_START, 15_000)], 108_208),
    # 1.5 % until 31 Dec, 1.25 % from 1 Jan 2026 (184 and 59 days):
    #   100,000 × (1.5 % × 184 + 1.25 % × 59) / 360 = 766.667 + 204.861
    #   10,000 × (1.5 % × 108 + 1.25 % × 59) / 360 = 45.000 + 20.486   → 1,037.01
    ([(YEAR_START, 15_000), (date(2026, 1, 1), 12_500)], 103_701),
    # The same rate split in two segments must give the one-rate answer.
    ([(YEAR_START, 15_000), (date(2026, 1, 1), 15_000)], 108_208),
    # A change after the closing day does not count.
    ([(YEAR_START, 15_000), (date(2026, 4, 1), 10_000)], 108_208),
])
def test_interest_to_date_counts_each_day_at_its_rate(db_url, rates, expected):
    member = _account(db_url)
    with clock.frozen(date(2026, 3, 1)), transaction(db_url) as s:
        account = s.get(LedgerAccount, member)
        assert ledger.interest_to_date_fen(s, account, date(2026, 3, 1), rates) == expected
        paid = ledger.pay_interest_to_date(s, member, date(2026, 3, 1), rates)
        assert paid == expected
        assert s.get(LedgerAccount, member).balance_fen == 11_000_000 + expected
