"""Withdrawal refusals, staff review, sources that cannot answer, account-closing kinds,
scheduled rent and concurrency — each through the gateway, with the ledger checked."""

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from threading import Barrier

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from wd_support import TODAY, balance, saver

from hpf.config import get_settings
from hpf.deposits.models import Member
from hpf.exchange.people_models import RegLowIncome, RegRetirement
from hpf.kit import clock
from hpf.kit.db import session_factory, transaction
from hpf.withdrawals import jobs
from hpf.withdrawals.models import WdApplication, WdSchedule
from support import channels


def _refused(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code, body
    assert body["message"]  # a Chinese message with every refusal
    return body


def _counter(p: dict, saver_, **extra) -> dict:
    return {"member_no": saver_.member_no, "bank_code": "ICBC", "card_no": saver_.card_no,
            **p, **extra}


def test_bad_input_is_refused_and_reserves_nothing(city):
    with clock.frozen(TODAY):
        wang = saver(city, 21, "王输入", 2_000_000)
        clerk = city.staff("clerk")
        base = _counter({"rent_months": 1}, wang)
        for amount in (0, -100, 10**15):
            _refused(city.call("wd.rent", {**base, "amount_fen": amount}, clerk,
                               channel="counter"), 422, "INVALID_PARAMS")
        # More than the balance allows: the cap of one month (1,500 yuan) refuses first.
        body = _refused(city.call("wd.rent", {**base, "amount_fen": 3_000_000}, clerk,
                                  channel="counter"), 422, "WD_CAP_EXCEEDED")
        assert any(r["code"] == "WD_CAP_EXCEEDED" for r in body["details"]["refusals"])
        # A card in someone else's name.
        other = saver(city, 22, "赵他人", 1_000)
        _refused(city.call("wd.rent", {**base, "card_no": other.card_no}, clerk,
                           channel="counter"), 422, "WD_CARD_NOT_OWN")
        _refused(city.call("wd.rent", {**base, "card_no": "6222021234567899"}, clerk,
                           channel="counter"), 422, "INVALID_BANK_CARD")  # fails the Luhn check
        _refused(city.call("wd.rent", {**base, "unknown": 1}, clerk, channel="counter"),
                 422, "INVALID_PARAMS")
        _refused(city.call("wd.nothing", base, clerk, channel="counter"), 404, "UNKNOWN_SERVICE")
        # A counter-only kind on the app.
        _refused(city.call("wd.build", {k: v for k, v in base.items() if k != "member_no"},
                           wang.headers, channel="app"), 403, "SERVICE_NOT_ON_CHANNEL")
        # A review kind online without its materials.
        with transaction(city.url) as s:
            s.add(RegLowIncome(certificate_no="DB2026001", id_number=wang.id_number,
                               name=wang.name, since=date(2026, 1, 1), until=None,
                               status="active"))
        online = {"bank_code": "ICBC", "card_no": wang.card_no, "amount_fen": 100_000}
        body = _refused(city.call("wd.low_income", online,
                                  city.sms_code(wang.headers, "wd.low_income"), channel="app"),
                        422, "MATERIAL_MISSING")
        assert balance(city, wang.account_id) == (2_000_000, 0)
        with transaction(city.url) as s:
            assert s.scalars(select(WdApplication)).all() == []
        city.ledger_ok()


def test_review_kind_waits_for_staff_then_reject_releases(city):
    with clock.frozen(TODAY):
        chen = saver(city, 23, "陈低保", 2_000_000)
        with transaction(city.url) as s:
            s.add(RegLowIncome(certificate_no="DB2026002", id_number=chen.id_number,
                               name=chen.name, since=date(2026, 1, 1), until=None,
                               status="active"))
        r = city.call("wd.low_income", _counter({"amount_fen": 300_000}, chen),
                      city.staff("clerk"), channel="counter")
        assert r.status_code == 202, r.text
        assert balance(city, chen.account_id) == (2_000_000, 300_000)  # reserved
        queue = city.client.get("/api/v1/approvals", headers=city.staff("rev1")).json()["items"]
        mine = [i for i in queue if i["service"] == "wd.low_income"]
        assert mine[0]["due_on"] == "2026-03-19"  # three working days
        assert mine[0]["due_state"] is None
        r = city.decide(int(r.headers["X-Command-Id"]), "rev1", approve=False,
                        reason="低保证明已过期")
        assert r.status_code == 200 and r.json()["status"] == "rejected", r.text
        assert balance(city, chen.account_id) == (2_000_000, 0)
        with transaction(city.url) as s:
            app = s.scalars(select(WdApplication)).one()
            assert (app.status, app.decision_reason) == ("rejected", "低保证明已过期")
        city.ledger_ok()
        r = city.call("wd.low_income", _counter({"amount_fen": 200_000}, chen),
                      city.staff("clerk"), channel="counter")
        assert r.status_code == 202, r.text
    # Due on Thursday 19 March: on Wednesday it is about to miss its deadline, on Friday late.
    for day, state in ((date(2026, 3, 18), "due_soon"), (date(2026, 3, 19), "due_today"),
                       (date(2026, 3, 20), "overdue")):
        with clock.frozen(day):
            city.forget_logins()
            queue = city.client.get("/api/v1/approvals",
                                    headers=city.staff("rev1")).json()["items"]
            assert [i["due_state"] for i in queue if i["service"] == "wd.low_income"] == [state]
    with clock.frozen(date(2026, 3, 20)):  # late, but a late decision still pays
        approved = city.approve(r, "rev1")
        assert approved["result"]["status"] == "approved"
        assert balance(city, chen.account_id) == (1_800_000, 0)
        city.ledger_ok()


def test_source_that_cannot_answer_sends_to_review_never_approves(city, monkeypatch):
    with clock.frozen(TODAY):
        liu = saver(city, 24, "刘租房", 2_000_000)
        # The data-exchange platform is down: every shared source fails.
        monkeypatch.setenv("HPF_SHARED_DATA_ADAPTER", "http")
        monkeypatch.setenv("HPF_SHARED_DATA_URL", "http://127.0.0.1:9/")
        monkeypatch.setenv("HPF_HTTP_TIMEOUT_S", "0.5")
        get_settings.cache_clear()
        r = city.call("wd.rent", _counter({"rent_months": 1}, liu), city.staff("clerk"),
                      channel="counter")
        assert r.status_code == 202, r.text  # a person decides
        with transaction(city.url) as s:
            app = s.scalars(select(WdApplication)).one()
            assert "REVIEW_SOURCE_UNAVAILABLE" in app.review_reasons
        assert balance(city, liu.account_id) == (2_000_000, 150_000)
        monkeypatch.delenv("HPF_SHARED_DATA_ADAPTER")
        get_settings.cache_clear()
        city.ledger_ok()


def _writer_lock_free(url: str, member_id: int) -> bool:
    """True when another connection could write the member's row right now, without waiting."""
    from sqlalchemy import make_url, text

    if url.startswith("sqlite"):
        raw = sqlite3.connect(make_url(url).database, timeout=0)
        try:
            raw.execute("BEGIN IMMEDIATE")
            raw.rollback()
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            raw.close()
    with session_factory(url)() as s, s.begin():
        try:
            s.execute(text("SELECT id FROM dep_member WHERE id = :id FOR UPDATE NOWAIT"),
                      {"id": member_id})
            return True
        except OperationalError:
            return False


def test_sources_are_asked_before_the_application_locks_anything(city, monkeypatch):
    """A slow shared source or bank holds no lock: the questions go out in the gateway's
    prepare step, and the application's transaction uses their answers."""
    from hpf.exchange import bank
    from hpf.withdrawals import gather

    with clock.frozen(TODAY):
        ma = saver(city, 26, "马慢源", 2_000_000)
        with transaction(city.url) as s:
            member_id = s.scalars(select(Member.id).where(
                Member.member_no == ma.member_no)).one()
        seen: list[tuple[str, bool]] = []
        ask_identity, card_check = gather._identity, bank.LocalBank.card_holder_matches

        def identity(session, member):
            seen.append(("identity", _writer_lock_free(city.url, member_id)))
            return ask_identity(session, member)

        def card(self, *args):
            seen.append(("bank", _writer_lock_free(city.url, member_id)))
            return card_check(self, *args)

        monkeypatch.setattr(gather, "_identity", identity)
        monkeypatch.setattr(bank.LocalBank, "card_holder_matches", card)
        r = city.call("wd.rent", _counter({"rent_months": 1}, ma), city.staff("clerk"),
                      channel="counter")
        assert r.status_code == 200, r.text
        # Each asked once, with the database free for other writers meanwhile.
        assert seen == [("bank", True), ("identity", True)]
        assert balance(city, ma.account_id) == (1_850_000, 0)
        city.ledger_ok()


def test_answers_about_a_member_changed_meanwhile_are_asked_again(city, monkeypatch):
    """Between the questions and the application's transaction a clerk corrects the member's
    name: the answers were about someone else's name, so the transaction asks again (and the
    card, in the old name, no longer matches)."""
    from hpf.withdrawals import gather

    with clock.frozen(TODAY):
        niu = saver(city, 27, "牛旧名", 2_000_000)
        calls: list[str] = []
        ask_identity = gather._identity

        def identity(session, member):
            calls.append(member.name)
            if len(calls) == 1:
                with transaction(city.url) as s:
                    s.scalars(select(Member).where(
                        Member.member_no == niu.member_no)).one().name = "牛新名"
            return ask_identity(session, member)

        monkeypatch.setattr(gather, "_identity", identity)
        r = city.call("wd.rent", _counter({"rent_months": 1}, niu), city.staff("clerk"),
                      channel="counter")
        _refused(r, 422, "WD_CARD_NOT_OWN")
        assert calls == ["牛旧名"]  # the card check inside refused before asking again
        assert balance(city, niu.account_id) == (2_000_000, 0)


def test_an_application_counts_once_against_the_channel_threshold(city, monkeypatch):
    """The prepare step counts the transaction before the sources are asked; the application's
    own transaction does not count it again."""
    from hpf.gateway import flow
    from hpf.kit.counters import MemoryCounters

    now = [1_800_000_000 + 5.0]
    counters = MemoryCounters(clock=lambda: now[0])
    monkeypatch.setattr(flow, "counters", lambda: counters)
    r = city.client.post("/api/v1/mgmt/changes/mgmt.channel_settings",
                         json={"channel": "counter", "tx_per_min": 2},
                         headers={**city.staff("ops"), "X-HPF-Channel": "counter"})
    assert r.status_code == 202, r.text
    assert city.decide(r.json()["command_id"], "rev2").json()["status"] == "succeeded"
    with clock.frozen(TODAY):
        yang = saver(city, 28, "杨限流", 2_000_000)
        clerk = city.staff("clerk")
        first = city.call("wd.rent", _counter({"rent_months": 1}, yang), clerk,
                          channel="counter")
        assert first.status_code == 200, first.text
        # The second is refused by the rules (a month already withdrawn), not by the flow.
        second = city.call("wd.rent", _counter({"rent_months": 1}, yang), clerk,
                           channel="counter")
        assert second.status_code == 422, second.text
        _refused(city.call("wd.rent", _counter({"rent_months": 1}, yang), clerk,
                           channel="counter"), 429, "FLOW_LIMITED")


def test_retirement_pays_everything_with_interest_and_closes_after_payout(city):
    with clock.frozen(TODAY):
        old = saver(city, 25, "周退休", 6_000_000)
        with transaction(city.url) as s:
            member = s.scalars(select(Member).where(Member.member_no == old.member_no)).one()
            member.birth_date = date(1960, 3, 1)  # 66: past any statutory age
            s.add(RegRetirement(id_number=old.id_number, name=old.name, approval_no="TX001",
                                retired_on=date(2026, 3, 1), kind="normal"))
        r = city.call("wd.retirement", _counter({}, old), city.staff("clerk"), channel="counter")
        assert r.status_code == 200, r.text
        result = r.json()["result"]
        assert result["closes_account"] is True and result["interest_fen"] > 0
        assert result["amount_fen"] == 6_000_000 + result["interest_fen"]
        assert balance(city, old.account_id) == (0, 0)
        factory = session_factory(city.url)
        jobs.run_payouts(factory, TODAY)
        assert jobs.run_reconcile(factory, TODAY)["paid"] == 1
        with transaction(city.url) as s:
            member = s.scalars(select(Member).where(Member.member_no == old.member_no)).one()
            assert (member.status, member.closed_on) == ("05", TODAY)
        city.ledger_ok()


def test_failed_closing_payout_takes_its_interest_back(city):
    from hpf.exchange.models import RegBankCard

    with clock.frozen(TODAY):
        old = saver(city, 29, "郑退休", 6_000_000)
        with transaction(city.url) as s:
            member = s.scalars(select(Member).where(Member.member_no == old.member_no)).one()
            member.birth_date = date(1960, 3, 1)
            s.add(RegRetirement(id_number=old.id_number, name=old.name, approval_no="TX002",
                                retired_on=date(2026, 3, 1), kind="normal"))
        r = city.call("wd.retirement", _counter({}, old), city.staff("clerk"), channel="counter")
        assert r.status_code == 200, r.text
        interest = r.json()["result"]["interest_fen"]
        assert interest > 0
        with transaction(city.url) as s:
            s.get(RegBankCard, old.card_no).status = "closed"
        factory = session_factory(city.url)
        jobs.run_payouts(factory, TODAY)
        assert jobs.run_reconcile(factory, TODAY)["failed"] == 1
        # The savings come back, the interest to date goes back to the year's accrual.
        assert balance(city, old.account_id) == (6_000_000, 0)
        city.ledger_ok()
        with transaction(city.url) as s:
            s.get(RegBankCard, old.card_no).status = "active"
        r = city.call("wd.retirement", _counter({}, old), city.staff("clerk"), channel="counter")
        assert r.status_code == 200, r.text
        assert r.json()["result"]["interest_fen"] == interest  # once, not twice
        assert r.json()["result"]["amount_fen"] == 6_000_000 + interest
        city.ledger_ok()


def test_scheduled_rent_is_filed_once_a_month(city):
    with clock.frozen(TODAY):
        sun = saver(city, 26, "孙约定", 5_000_000)
        r = city.call("wd.rent", _counter({"rent_months": 1, "schedule_months": 2}, sun),
                      city.staff("clerk"), channel="counter")
        assert r.status_code == 200, r.text
    factory = session_factory(city.url)
    with clock.frozen(date(2026, 4, 10)):
        first = jobs.run_scheduled(factory)
        assert (first["filed"], first["refused"], first["retry"]) == (1, [], [])
        assert jobs.run_scheduled(factory)["filed"] == 0  # a rerun files nothing twice
    with clock.frozen(date(2026, 5, 11)):
        assert jobs.run_scheduled(factory)["filed"] == 1
    with transaction(city.url) as s:
        schedule = s.scalars(select(WdSchedule)).one()
        assert (schedule.status, schedule.done_through) == ("ended", 202605)
        amounts = [a.amount_fen for a in s.scalars(select(WdApplication)
                                                   .order_by(WdApplication.id))]
    assert amounts == [150_000, 150_000, 150_000]
    assert balance(city, sun.account_id)[0] == 5_000_000 - 450_000
    city.ledger_ok()


def test_scheduled_rent_catches_up_a_missed_last_month_then_ends(city):
    with clock.frozen(TODAY):
        zhao = saver(city, 36, "赵补提", 5_000_000)
        r = city.call("wd.rent", _counter({"rent_months": 1, "schedule_months": 2}, zhao),
                      city.staff("clerk"), channel="counter")
        assert r.status_code == 200, r.text
    factory = session_factory(city.url)
    with clock.frozen(date(2026, 4, 10)):
        assert jobs.run_scheduled(factory)["filed"] == 1
    # May's run was missed; June's files May (the term's last month), then the term ends.
    with clock.frozen(date(2026, 6, 9)):
        assert jobs.run_scheduled(factory)["filed"] == 1
        assert jobs.run_scheduled(factory)["filed"] == 0
    with transaction(city.url) as s:
        schedule = s.scalars(select(WdSchedule)).one()
        assert (schedule.status, schedule.done_through) == ("ended", 202605)
    assert balance(city, zhao.account_id)[0] == 5_000_000 - 3 * 150_000
    city.ledger_ok()


def test_a_schedule_is_replaced_by_signing_again_and_ended_by_staff(city):
    with clock.frozen(TODAY):
        qian = saver(city, 37, "钱解约", 5_000_000)
        r = city.call("wd.rent", _counter({"rent_months": 1, "schedule_months": 6}, qian),
                      city.staff("clerk"), channel="counter")
        assert r.status_code == 200, r.text
    with clock.frozen(date(2026, 4, 10)):
        city.forget_logins()  # the morning's sessions have gone idle
        r = city.call("wd.rent", _counter({"rent_months": 1, "schedule_months": 3}, qian),
                      city.staff("clerk"), channel="counter")
        assert r.status_code == 200, r.text
        with transaction(city.url) as s:
            rows = s.scalars(select(WdSchedule).order_by(WdSchedule.id)).all()
            assert [(x.status, x.last_period) for x in rows] == [("cancelled", 202609),
                                                                 ("active", 202607)]
        headers = {**city.staff("rev1"), "X-HPF-Channel": "counter"}
        bad = city.client.post("/api/v1/mgmt/changes/mgmt.wd_schedule_cancel",
                               json={"member_no": qian.member_no}, headers=headers)
        assert bad.status_code == 422 and bad.json()["code"] == "INVALID_PARAMS"
        r = city.client.post("/api/v1/mgmt/changes/mgmt.wd_schedule_cancel",
                             json={"member_no": qian.member_no, "reason": "职工申请解约"},
                             headers=headers)
        assert r.status_code == 202, r.text
        body = city.decide(r.json()["command_id"], "rev2").json()
        assert body["status"] == "succeeded", body
        with transaction(city.url) as s:
            assert [x.status for x in s.scalars(select(WdSchedule))] == ["cancelled"] * 2
        again = city.client.post("/api/v1/mgmt/changes/mgmt.wd_schedule_cancel",
                                 json={"member_no": qian.member_no, "reason": "再次解约"},
                                 headers=headers)
        body = city.decide(again.json()["command_id"], "rev2").json()
        assert body["status"] == "failed" and body["error"]["code"] == "WD_NO_SCHEDULE"
    with clock.frozen(date(2026, 5, 11)):
        assert jobs.run_scheduled(session_factory(city.url))["filed"] == 0  # nothing after


@pytest.mark.slow
def test_parallel_withdrawals_never_overdraw(city):
    with clock.frozen(TODAY):
        he = saver(city, 27, "何并发", 400_000)  # less than a year's rent cap
        params = _counter({"rent_months": 12}, he)
        clerk = city.staff("clerk")
        barrier = Barrier(8)

        def one(_i: int):
            client = TestClient(city.app)
            client.auth = channels.signer()
            barrier.wait()
            return client.post("/api/v1/services/wd.rent", json=params,
                               headers={**clerk, "X-HPF-Channel": "counter"}).status_code

        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(one, range(8)))
        assert codes.count(200) == 1, codes
        assert all(c in (200, 409, 422) for c in codes), codes
        bal, reserved = balance(city, he.account_id)
        assert bal == 1_000 and reserved == 0  # the minimum balance stays
        city.ledger_ok()


def test_death_withdrawal_by_the_heir_at_the_counter(city):
    from wd_support import luhn_card

    from hpf.exchange.models import RegBankCard, RegPerson
    from integration.deposits.conftest import make_id

    with clock.frozen(TODAY):
        late = saver(city, 28, "吴已故", 2_500_000)
        heir_id = make_id(128, date(1985, 2, 3), male=False)
        heir_card = luhn_card("621700000000128")
        with transaction(city.url) as s:
            s.get(RegPerson, late.id_number).status = "deceased"
            s.add(RegBankCard(card_no=heir_card, bank_code="CCB", holder_name="吴继承",
                              holder_id_number=heir_id, status="active"))
        params = {"member_no": late.member_no, "bank_code": "CCB", "card_no": heir_card,
                  "heir_name": "吴继承", "heir_id_number": heir_id}
        # The member's own card is not the payee's: the heir is paid.
        _refused(city.call("wd.death", {**params, "card_no": late.card_no, "bank_code": "ICBC"},
                           city.staff("clerk"), channel="counter"), 422, "WD_CARD_NOT_OWN")
        r = city.call("wd.death", params, city.staff("clerk"), channel="counter")
        assert r.status_code == 202, r.text  # a reviewer other than the clerk decides
        assert balance(city, late.account_id) == (2_500_000, 2_500_000)
        body = city.approve(r, "rev1")
        result = body["result"]
        assert result["closes_account"] and result["amount_fen"] == 2_500_000 + result["interest_fen"]
        factory = session_factory(city.url)
        jobs.run_payouts(factory, TODAY)
        assert jobs.run_reconcile(factory, TODAY)["paid"] == 1
        with transaction(city.url) as s:
            member = s.scalars(select(Member).where(Member.member_no == late.member_no)).one()
            assert member.status == "05"
            app = s.scalars(select(WdApplication)).one()
            assert (app.account_name, app.status) == ("吴继承", "paid")
        city.ledger_ok()


def test_husband_and_wife_at_once_never_exceed_the_price_together(city):
    from wd_support import home, purchase

    from hpf.exchange.people_models import RegMarriage

    with clock.frozen(TODAY):
        husband = saver(city, 61, "钱丈夫", 60_000_000)
        wife = saver(city, 62, "孔妻子", 50_000_000)
        with transaction(city.url) as s:
            s.add(RegMarriage(record_no="J530102-2016-061", party_a_id_number=husband.id_number,
                              party_a_name=husband.name, party_b_id_number=wife.id_number,
                              party_b_name=wife.name, married_on=date(2016, 5, 1),
                              divorced_on=None))
        home(city, husband.id_number, "云(2025)昆明市不动产权第0000061号", 9_000, date(2025, 12, 1))
        purchase(city, husband.id_number, "WQ2025-0061", 100_000_000, date(2025, 10, 1))
        clerk = city.staff("clerk")
        barrier = Barrier(2)

        def apply(who):
            client = TestClient(city.app)
            client.auth = channels.signer()
            barrier.wait()
            return client.post("/api/v1/services/wd.purchase", json={
                "member_no": who.member_no, "bank_code": "ICBC", "card_no": who.card_no,
                "contract_no": "WQ2025-0061"}, headers={**clerk, "X-HPF-Channel": "counter"})

        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(apply, (husband, wife)))
        assert [r.status_code for r in answers] == [200, 200], [r.text for r in answers]
        paid = sum(r.json()["result"]["amount_fen"] for r in answers)
        assert paid == 100_000_000  # the price, together, whichever came first
        city.ledger_ok()
