"""The month's batch debit (批量自动代扣汇缴) credits every signed employer once."""

from datetime import date

import pytest
from sqlalchemy import func, select, update

from hpf.deposits import batch
from hpf.deposits.batch import run_monthly_debit
from hpf.deposits.models import Employer, Member, Receipt, RemitList
from hpf.exchange.bank import DebitRefused, LocalBank
from hpf.kit import clock
from hpf.kit.db import session_factory, transaction
from hpf.ledger.models import LedgerAccount, Posting, Voucher
from hpf.ledger.verify import verify

from .conftest import CARD
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


def _two_employers_interleaved(city) -> dict[str, list[str]]:
    """unit01 and unit02 with members opened alternately, so each range holds both."""
    city.employer(2, "春城建材有限公司", "unit02")
    unit1, unit2 = city.login("unit", "unit01"), city.login("unit", "unit02")
    members: dict[str, list[str]] = {"unit01": [], "unit02": []}
    for i in range(3):
        members["unit01"].append(_open(city, unit1, 40 + 2 * i, f"一{i}", 500_000))  # 600+600
        members["unit02"].append(_open(city, unit2, 41 + 2 * i, f"二{i}", 300_000))  # 360+360
    with transaction(city.url) as s:
        s.execute(update(Employer).values(debit_account_no="6222020000000001"))
    return members


def _balances(city) -> dict[str, int]:
    with transaction(city.url) as s:
        return dict(s.execute(select(Member.member_no, LedgerAccount.balance_fen).join(
            LedgerAccount, LedgerAccount.id == Member.account_id)).all())


def test_member_ranges_credit_each_line_once_from_its_own_employer(city, monkeypatch):
    members = _two_employers_interleaved(city)
    monkeypatch.setattr(batch, "IN_LIST_SLICE", 1)  # employers looked up one slice at a time
    factory = session_factory(city.url)
    with clock.frozen(date(2026, 3, 16)):
        result = run_monthly_debit(factory, 202601, chunk_members=2, chunk_employers=1)
    # 6 members in ranges of 2 ids: 3 ranges, each crediting one member of each employer.
    assert (result.rows, result.amount_fen) == (6, 3 * 120_000 + 3 * 72_000)
    balances = _balances(city)
    assert [balances[m] for m in members["unit01"]] == [120_000] * 3
    assert [balances[m] for m in members["unit02"]] == [72_000] * 3
    with transaction(city.url) as s:
        lists = s.scalars(select(RemitList).order_by(RemitList.employer_id)).all()
        assert [(rl.status, rl.member_count, rl.total_fen) for rl in lists] == [
            ("credited", 3, 360_000), ("credited", 3, 216_000)]
        credits = s.execute(select(Voucher.line_count, Voucher.total_fen).where(
            Voucher.entry_type == "remit").order_by(Voucher.id)).all()
        # One voucher per range: two member credits and two suspense debits each.
        assert [tuple(c) for c in credits] == [(4, 192_000)] * 3
        for e in s.scalars(select(Employer)):
            assert e.paid_through == 202601
            assert s.get(LedgerAccount, e.suspense_account_id).balance_fen == 0
        assert verify(s).ok, verify(s).problems


def test_a_refused_debit_leaves_that_list_for_the_employer_to_pay(city, monkeypatch):
    members = _two_employers_interleaved(city)
    refused = {"CCB"}  # unit02 banks with CCB in the fixture

    def debit(self, bank_code, account_no, name, amount_fen, reference):
        if bank_code in refused:
            raise DebitRefused("账户余额不足")
        return original(self, bank_code, account_no, name, amount_fen, reference)

    original = LocalBank.debit
    monkeypatch.setattr(LocalBank, "debit", debit)
    with clock.frozen(date(2026, 3, 16)):
        result = run_monthly_debit(session_factory(city.url), 202601, chunk_members=2)
    assert (result.rows, result.amount_fen) == (3, 360_000)
    balances = _balances(city)
    assert [balances[m] for m in members["unit02"]] == [0, 0, 0]
    with transaction(city.url) as s:
        statuses = s.scalars(select(RemitList.status).order_by(RemitList.employer_id)).all()
        assert statuses == ["credited", "confirmed"]
        assert verify(s).ok, verify(s).problems
    # unit02 then pays its confirmed list online; the whole list is credited at once.
    refused.clear()
    unit2 = city.login("unit", "unit02")
    view = city.call("dep.remit", {"action": "status", "period": 202601}, unit2).json()["result"]
    assert (view["status"], view["status_zh"], view["total_fen"]) == (
        "confirmed", "已确认待缴款", 216_000)
    paid = city.call("dep.remit", {"action": "pay", "period": 202601, "method": "debit",
                                   "account_no": CARD}, unit2)
    assert paid.status_code == 200, paid.text
    assert paid.json()["result"]["status"] == "credited"
    balances = _balances(city)
    assert [balances[m] for m in members["unit02"]] == [72_000] * 3
    city.ledger_ok()


def test_a_crash_in_the_middle_resumes_without_crediting_twice(city, monkeypatch):
    members = _two_employers_interleaved(city)
    factory = session_factory(city.url)
    real = batch._credit_members
    calls = {"n": 0}

    def crash_on_second_range(session, period, lo, hi):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        return real(session, period, lo, hi)

    monkeypatch.setattr(batch, "_credit_members", crash_on_second_range)
    with clock.frozen(date(2026, 3, 16)), pytest.raises(RuntimeError):
        run_monthly_debit(factory, 202601, chunk_members=2)
    half = _balances(city)
    assert sum(1 for v in half.values() if v) == 2  # the first range only
    with transaction(city.url) as s:
        assert verify(s).ok, verify(s).problems  # the money waits in suspense meanwhile
        assert {rl.status for rl in s.scalars(select(RemitList))} == {"debited"}
    monkeypatch.setattr(batch, "_credit_members", real)
    with clock.frozen(date(2026, 3, 16)):
        resumed = run_monthly_debit(factory, 202601, chunk_members=2)
    assert resumed.chunks_skipped > 0 and resumed.rows == 6
    balances = _balances(city)
    assert [balances[m] for m in members["unit01"]] == [120_000] * 3
    assert [balances[m] for m in members["unit02"]] == [72_000] * 3
    with transaction(city.url) as s:
        assert s.scalar(select(func.count()).select_from(Posting).where(
            Posting.entry_type == "remit", Posting.side == "C")) == 6
        assert verify(s).ok, verify(s).problems
