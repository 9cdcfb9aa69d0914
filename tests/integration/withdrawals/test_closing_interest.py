"""A closing withdrawal (retirement) approved before the year's interest settlement and answered
by the bank after it: the interest to date is paid once, whether the payout succeeds or fails.

Worked example: 60,000.00 yuan valued 2026-01-15, approved 2026-06-29 at 1.5 % a year:
6,000,000 fen × 165 days (15 Jan to 29 Jun) × 1.5 % / 360 = 41,250 fen (412.50 yuan).
"""

from datetime import date

from sqlalchemy import func, select
from wd_support import balance, saver

from hpf.deposits.jobs import run_interest_settlement
from hpf.deposits.models import Member
from hpf.exchange.models import RegBankCard
from hpf.exchange.people_models import RegRetirement
from hpf.kit import clock
from hpf.kit.db import session_factory, transaction
from hpf.ledger.models import LedgerAccount, Posting
from hpf.withdrawals import jobs

APPROVED_ON, SETTLED_ON, ANSWERED_ON = date(2026, 6, 29), date(2026, 6, 30), date(2026, 7, 2)
INTEREST_TO_DATE = 41_250


def _retire(city, n: int, name: str):
    with clock.frozen(APPROVED_ON):
        old = saver(city, n, name, 6_000_000)
        with transaction(city.url) as s:
            member = s.scalars(select(Member).where(Member.member_no == old.member_no)).one()
            member.birth_date = date(1960, 3, 1)
            s.add(RegRetirement(id_number=old.id_number, name=old.name, approval_no=f"TX{n}",
                                retired_on=date(2026, 3, 1), kind="normal"))
        r = city.call("wd.retirement", {"member_no": old.member_no, "bank_code": "ICBC",
                                        "card_no": old.card_no},
                      city.staff("clerk"), channel="counter")
        assert r.status_code == 200, r.text
        assert r.json()["result"]["interest_fen"] == INTEREST_TO_DATE
        assert r.json()["result"]["amount_fen"] == 6_000_000 + INTEREST_TO_DATE
        jobs.run_payouts(session_factory(city.url), APPROVED_ON)
    return old


def _interest_credited(city, account_id: int) -> int:
    with transaction(city.url) as s:
        return s.scalar(select(func.coalesce(func.sum(Posting.amount_fen), 0)).where(
            Posting.account_id == account_id, Posting.side == "C",
            Posting.entry_type.in_(("close_interest", "interest")))) or 0


def test_settlement_between_approval_and_payment_pays_no_second_interest(city):
    old = _retire(city, 31, "吴结息")
    with clock.frozen(SETTLED_ON):
        run_interest_settlement(session_factory(city.url), SETTLED_ON)
    # Paid to date at approval: the settlement leaves the emptied account alone.
    assert balance(city, old.account_id) == (0, 0)
    city.ledger_ok()
    with clock.frozen(ANSWERED_ON):
        assert jobs.run_reconcile(session_factory(city.url), ANSWERED_ON)["paid"] == 1
    with transaction(city.url) as s:
        member = s.scalars(select(Member).where(Member.member_no == old.member_no)).one()
        assert member.status == "05"  # closed after the payment, nothing left in it
        assert s.get(LedgerAccount, old.account_id).closed_on is not None
    assert _interest_credited(city, old.account_id) == INTEREST_TO_DATE  # once
    city.ledger_ok()


def test_payout_failing_after_the_settlement_keeps_its_interest_and_earns_from_today(city):
    """Returned in the next interest year: the interest to date stays paid (that year is
    settled, and it sat the settlement out), the money earns from the day it came back."""
    old = _retire(city, 32, "钱退回")
    with transaction(city.url) as s:
        s.get(RegBankCard, old.card_no).status = "closed"
    with clock.frozen(SETTLED_ON):
        run_interest_settlement(session_factory(city.url), SETTLED_ON)
    # The batch went out on the approval day, with the card still open; the bank's answer
    # comes after the settlement.
    with clock.frozen(ANSWERED_ON):
        assert jobs.run_reconcile(session_factory(city.url), ANSWERED_ON)["failed"] == 1
    assert balance(city, old.account_id) == (6_000_000 + INTEREST_TO_DATE, 0)
    assert _interest_credited(city, old.account_id) == INTEREST_TO_DATE
    with transaction(city.url) as s:
        account = s.get(LedgerAccount, old.account_id)
        assert account.closed_on is None and account.accrual_year == 2026
        # From 2 July 2026 to the year's end (1 July 2027): 364 days.
        assert account.accrual_fen_days == (6_000_000 + INTEREST_TO_DATE) * 364
        member = s.scalars(select(Member).where(Member.member_no == old.member_no)).one()
        assert member.status != "05"
    city.ledger_ok()


def test_no_closing_withdrawal_while_a_payout_is_with_the_bank(city):
    """A payout that later fails must have an open account to come back to."""
    with clock.frozen(APPROVED_ON):
        sun = saver(city, 33, "孙在途", 6_000_000)
        with transaction(city.url) as s:
            member = s.scalars(select(Member).where(Member.member_no == sun.member_no)).one()
            member.birth_date = date(1960, 3, 1)
            s.add(RegRetirement(id_number=sun.id_number, name=sun.name, approval_no="TX33",
                                retired_on=date(2026, 3, 1), kind="normal"))
        r = city.call("wd.rent", {"member_no": sun.member_no, "bank_code": "ICBC",
                                  "card_no": sun.card_no, "rent_months": 1},
                      city.staff("clerk"), channel="counter")
        assert r.status_code == 200, r.text
        rent_no = r.json()["application_no"]
        jobs.run_payouts(session_factory(city.url), APPROVED_ON)
        r = city.call("wd.retirement", {"member_no": sun.member_no, "bank_code": "ICBC",
                                        "card_no": sun.card_no},
                      city.staff("clerk"), channel="counter")
        assert r.status_code == 409, r.text
        body = r.json()
        assert body["code"] == "WD_PAYOUT_IN_FLIGHT" and rent_no in body["message"]
        assert balance(city, sun.account_id) == (6_000_000 - 150_000, 0)  # nothing reserved
        jobs.run_reconcile(session_factory(city.url), APPROVED_ON)
        r = city.call("wd.retirement", {"member_no": sun.member_no, "bank_code": "ICBC",
                                        "card_no": sun.card_no},
                      city.staff("clerk"), channel="counter")
        assert r.status_code == 200, r.text  # once the bank has answered
        city.ledger_ok()


def test_a_failed_payout_to_an_account_closed_meanwhile_is_held_not_blocking_its_batch(city):
    from hpf.withdrawals.models import WdApplication, WdPayoutBatch

    with clock.frozen(APPROVED_ON):
        a = saver(city, 34, "李已销", 3_000_000)
        b = saver(city, 35, "周同批", 3_000_000)
        for who in (a, b):
            r = city.call("wd.rent", {"member_no": who.member_no, "bank_code": "ICBC",
                                      "card_no": who.card_no, "rent_months": 1},
                          city.staff("clerk"), channel="counter")
            assert r.status_code == 200, r.text
        jobs.run_payouts(session_factory(city.url), APPROVED_ON)
        with transaction(city.url) as s:
            s.get(RegBankCard, a.card_no).status = "closed"
            # Closed meanwhile by another way out of the fund (its balance moved elsewhere).
            account = s.get(LedgerAccount, a.account_id)
            account.closed_on = APPROVED_ON
        summary = jobs.run_reconcile(session_factory(city.url), APPROVED_ON)
        assert (summary["paid"], summary["failed"]) == (1, 0)
        assert any("待人工退款" in p for p in summary["problems"])
        with transaction(city.url) as s:
            apps = {x.member_id: x for x in s.scalars(select(WdApplication))}
            statuses = sorted(x.status for x in apps.values())
            assert statuses == ["disputed", "paid"]
            batch = s.scalars(select(WdPayoutBatch)).one()
            assert batch.status == "settled"  # the rest of the batch is not held up
        assert balance(city, b.account_id) == (3_000_000 - 150_000, 0)


def test_a_late_remittance_lands_on_an_account_awaiting_its_closing_payout(city):
    """The account is out of its interest year until the bank answers; an employer's monthly
    list (a bulk credit) naming it must still go through, not be refused whole."""
    from hpf.ledger import bulk
    from hpf.ledger import domain as ledger_domain
    from hpf.ledger import service as ledger

    old = _retire(city, 38, "郑晚缴")
    with clock.frozen(APPROVED_ON), transaction(city.url) as s:
        bank = ledger.system_account(s, ledger_domain.BANK_SETTLEMENT, "bank", None, "委托银行结算户")
        bulk.bulk_credit(s, "remit", "SELECT :a AS account_id, 50000 AS amount_fen, "
                         "202606 AS period", {"a": old.account_id}, debit_account_id=bank.id,
                         value_date=APPROVED_ON, summary="六月汇缴")
    assert balance(city, old.account_id) == (50_000, 0)
    city.ledger_ok()
    with clock.frozen(ANSWERED_ON):
        assert jobs.run_reconcile(session_factory(city.url), ANSWERED_ON)["paid"] == 1
    with transaction(city.url) as s:
        account = s.get(LedgerAccount, old.account_id)
        assert account.closed_on is None  # the late money keeps it open, for staff
        member = s.scalars(select(Member).where(Member.member_no == old.member_no)).one()
        assert member.status != "05"
    assert _interest_credited(city, old.account_id) == INTEREST_TO_DATE  # still once
    city.ledger_ok()
