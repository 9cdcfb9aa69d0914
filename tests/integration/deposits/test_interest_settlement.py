"""Annual interest settlement through the real remittance path, on both engines."""

from datetime import date

import pytest
from sqlalchemy import func, select

from hpf.deposits import remittance
from hpf.deposits.jobs import run_interest_settlement
from hpf.deposits.models import Employer, Member
from hpf.kit import clock
from hpf.kit.db import session_factory, transaction
from hpf.kit.errors import HpfError
from hpf.ledger.models import LedgerAccount, Posting
from hpf.ledger.verify import verify

from .test_remittance_flow import _open


def _remit(url: str, employer_id: int, period: int, day: date) -> int:
    with clock.frozen(day), transaction(url) as s:
        employer = s.get(Employer, employer_id)
        remit_list = remittance.generate_list(s, employer, period)
        remittance.confirm_list(s, employer, period)
        remittance.record_receipt(
            s, bank_code="ICBC", bank_txn_id=f"T{period}", amount_fen=remit_list.total_fen,
            payer_name=employer.name, payer_account=None, reference=remit_list.reference,
            arrived_on=day)
        return remit_list.total_fen


def test_settlement_pays_product_sum_interest_once(city):
    unit = city.login("unit", "unit01")
    a = _open(city, unit, 11, "甲", 586_600)  # 704 + 704 = 1408 yuan a month
    # Employer paid through 2025-12; remit Jan, Feb, Mar on the 16th of March, then Apr-Jun.
    days = {202601: date(2026, 3, 16), 202602: date(2026, 3, 16), 202603: date(2026, 3, 16),
            202604: date(2026, 4, 20), 202605: date(2026, 5, 20), 202606: date(2026, 6, 30)}
    for period, day in days.items():
        _remit(city.url, city.employer_id, period, day)
    # Hand computation, interest year 2025-07-01 .. 2026-07-01 (end exclusive):
    #   3 × 140 800 fen from 16 Mar: 107 days to 1 Jul -> 422 400 × 107 = 45 196 800
    #   140 800 from 20 Apr: 72 days -> 10 137 600; from 20 May: 42 days -> 5 913 600
    #   140 800 from 30 Jun: 1 day -> 140 800.        Σ = 61 388 800 fen·days
    #   interest = 61 388 800 × 1.5% / 360 = 2 557.8666… fen -> 2 558 fen (25.58 yuan)
    factory = session_factory(city.url)
    with clock.frozen(date(2026, 6, 30)):
        first = run_interest_settlement(factory, date(2026, 6, 30), chunk_size=1)
        again = run_interest_settlement(factory, date(2026, 6, 30))
    assert first.amount_fen == 2558 and first.rows == 1
    assert again.already_done and again.chunks_run == 0
    with transaction(city.url) as s:
        member = s.scalars(select(Member).where(Member.member_no == a)).one()
        account = s.get(LedgerAccount, member.account_id)
        assert account.balance_fen == 6 * 140_800 + 2558
        assert account.year_open_balance_fen == account.balance_fen  # 上年结转
        assert account.accrual_year == 2026
        interest_postings = s.scalar(select(func.count()).select_from(Posting)
                                     .where(Posting.entry_type == "interest",
                                            Posting.account_id == account.id))
        assert interest_postings == 1
        assert verify(s).ok, verify(s).problems
    details = city.call("q.member_details", {"year": 2025}, city.login("staff", "clerk"),
                        channel="counter")
    assert details.status_code == 422  # staff must name the member
    # July business goes on in the new year after settlement.
    _remit(city.url, city.employer_id, 202607, date(2026, 7, 15))
    with transaction(city.url) as s:
        assert verify(s).ok, verify(s).problems


def test_new_year_posting_is_refused_before_settlement(city):
    unit = city.login("unit", "unit01")
    _open(city, unit, 12, "乙", 500_000)
    for period, day in {202601: date(2026, 3, 16), 202602: date(2026, 3, 16),
                        202603: date(2026, 3, 16), 202604: date(2026, 4, 16),
                        202605: date(2026, 5, 16), 202606: date(2026, 6, 16)}.items():
        _remit(city.url, city.employer_id, period, day)
    with pytest.raises(HpfError) as refused:
        _remit(city.url, city.employer_id, 202607, date(2026, 7, 15))
    assert refused.value.code == "LEDGER_BULK_REFUSED"
    with transaction(city.url) as s:
        assert verify(s).ok


def test_settlement_date_must_be_30_june(city):
    with pytest.raises(HpfError) as refused:
        run_interest_settlement(session_factory(city.url), date(2026, 6, 29))
    assert refused.value.code == "INVALID_SETTLEMENT_DATE"
