"""The month's batch debit (批量自动代扣汇缴) credits every signed employer once."""

from datetime import date

from sqlalchemy import func, select

from hpf.deposits.batch import run_monthly_debit
from hpf.deposits.models import Employer, Receipt, RemitList
from hpf.kit import clock
from hpf.kit.db import session_factory, transaction
from hpf.ledger.models import LedgerAccount, Posting
from hpf.ledger.verify import verify

from .test_remittance_flow import _open


def test_batch_debit_credits_due_employers_once(city):
    unit = city.login("unit", "unit01")
    a = _open(city, unit, 31, "甲", 586_600)   # 704 + 704
    b = _open(city, unit, 32, "乙", 300_000)   # 360 + 360
    with transaction(city.url) as s:
        s.get(Employer, city.employer_id).debit_account_no = "6222020000000001"
    factory = session_factory(city.url)
    with clock.frozen(date(2026, 3, 16)):
        first = run_monthly_debit(factory, 202601)
        again = run_monthly_debit(factory, 202601)
    assert (first.rows, first.amount_fen) == (2, 2 * (70_400 + 36_000))
    assert again.already_done
    with transaction(city.url) as s:
        employer = s.get(Employer, city.employer_id)
        assert employer.paid_through == 202601
        remit_list = s.scalars(select(RemitList).where(RemitList.period == 202601)).one()
        assert remit_list.status == "credited" and remit_list.receipt_id is not None
        assert s.scalar(select(func.count()).select_from(Receipt)) == 1
        credited = s.scalar(select(func.count()).select_from(Posting).where(
            Posting.entry_type == "remit", Posting.side == "C"))
        assert credited == 2
        suspense = s.get(LedgerAccount, employer.suspense_account_id)
        assert suspense.balance_fen == 0
        assert verify(s).ok, verify(s).problems
    details = city.call("q.member_deposits", {"member_no": a}, city.staff("clerk"),
                        channel="counter").json()["result"]["items"]
    assert details[0]["amount_fen"] == 140_800 and details[0]["period"] == 202601
    assert b


def test_batch_skips_a_month_the_employer_started_online(city):
    unit = city.login("unit", "unit01")
    _open(city, unit, 33, "丙", 400_000)
    with transaction(city.url) as s:
        s.get(Employer, city.employer_id).debit_account_no = "6222020000000001"
    assert city.call("dep.remit", {"action": "generate", "period": 202601}, unit).status_code == 200
    with clock.frozen(date(2026, 3, 16)):
        result = run_monthly_debit(session_factory(city.url), 202601)
    assert result.rows == 0
    with transaction(city.url) as s:
        assert s.get(Employer, city.employer_id).paid_through == 202512
        assert verify(s).ok
