"""A withdrawal end to end through the gateway: applied (at the counter, then online), reviewed
automatically against shared data, reserved, decided, paid through a bank batch file and
reconciled from the statement; the books stay clean at every step."""

import json
from datetime import date

import pytest
from sqlalchemy import select
from wd_support import TODAY, balance, home, purchase, saver

from hpf.exchange import bank_files
from hpf.exchange.people_models import RegMarriage
from hpf.kit import clock
from hpf.kit.db import session_factory, transaction
from hpf.kit.errors import HpfError
from hpf.notices.models import OutboxMessage
from hpf.withdrawals import jobs, payouts
from hpf.withdrawals.models import WdApplication, WdPayoutBatch


def _app(city, application_no: str) -> WdApplication:
    with transaction(city.url) as s:
        app = s.scalars(select(WdApplication).where(
            WdApplication.application_no == application_no)).one()
        s.expunge(app)
        return app


def test_rent_at_counter_then_online_paid_and_reconciled(city):
    with clock.frozen(TODAY):
        zhang = saver(city, 11, "张租房", 5_000_000)
        params = {"member_no": zhang.member_no, "bank_code": "ICBC", "card_no": zhang.card_no,
                  "rent_months": 3}
        # Online first: the first rent withdrawal must be made at the counter.
        r = city.call("wd.rent", {**params, "member_no": None},
                      city.sms_code(zhang.headers, "wd.rent"), channel="app")
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "WD_FIRST_TIME_AT_COUNTER"
        assert balance(city, zhang.account_id) == (5_000_000, 0)  # nothing reserved

        # At the counter: no home in the city, 3 months × 1,500 yuan, approved at once.
        r = city.call("wd.rent", params, city.staff("clerk"), channel="counter")
        assert r.status_code == 200, r.text
        result = r.json()["result"]
        assert result["status"] == "approved" and result["amount_fen"] == 450_000
        number = r.json()["application_no"]
        assert balance(city, zhang.account_id) == (5_000_000 - 450_000, 0)
        city.ledger_ok()

        factory = session_factory(city.url)
        summary = jobs.run_payouts(factory, TODAY)
        assert len(summary["sent"]) == 1 and summary["waiting"] == []
        assert _app(city, number).status == "paying"
        done = jobs.run_reconcile(factory, TODAY)
        assert (done["paid"], done["failed"], done["problems"]) == (1, 0, [])
        app = _app(city, number)
        assert app.status == "paid" and app.bank_txn_id and app.paid_on == TODAY
        city.ledger_ok()
        # A second run finds nothing to do and pays nothing twice.
        assert jobs.run_payouts(factory, TODAY) == {"made": [], "sent": [], "waiting": []}
        assert jobs.run_reconcile(factory, TODAY)["batches"] == 0
        with transaction(city.url) as s:
            texts = [m.content for m in s.scalars(select(OutboxMessage))]
        assert any(number in t and "已付款4500.00元" in t for t in texts), texts

    # Next month online: allowed now that the first one was at the counter.
    with clock.frozen(date(2026, 4, 15)):
        city.forget_logins()
        headers = city.login("member", zhang.id_number)
        online = {k: v for k, v in params.items() if k != "member_no"}
        online["rent_months"] = 1
        r = city.call("wd.rent", online, city.sms_code(headers, "wd.rent"), channel="app")
        assert r.status_code == 200, r.text
        assert r.json()["result"]["amount_fen"] == 150_000
        # Once a month.
        r = city.call("wd.rent", online, city.sms_code(headers, "wd.rent"), channel="app")
        assert r.status_code == 422 and r.json()["code"] == "WD_TOO_FREQUENT", r.text
        city.ledger_ok()

        r = city.call("q.member_withdrawals", {}, headers, channel="app")
        assert r.status_code == 200, r.text
        items = r.json()["result"]["items"]
        assert [i["amount_fen"] for i in items] == [150_000, 450_000]
        assert items[0]["card_no"].startswith("6222****")
        r = city.call("q.progress", {}, headers, channel="app")
        assert r.status_code == 200, r.text
        progress = [i for i in r.json()["result"]["items"] if i["service"] == "wd.rent"]
        assert [p["withdrawal"]["status"] for p in progress] == ["approved", "paid"]


def test_failed_payout_comes_back_whole(city):
    with clock.frozen(TODAY):
        li = saver(city, 12, "李退回", 3_000_000)
        r = city.call("wd.rent", {"member_no": li.member_no, "bank_code": "ICBC",
                                  "card_no": li.card_no, "rent_months": 2},
                      city.staff("clerk"), channel="counter")
        assert r.status_code == 200, r.text
        number = r.json()["application_no"]
        # The card is closed after the application: the bank refuses the payout.
        from hpf.exchange.models import RegBankCard

        with transaction(city.url) as s:
            s.get(RegBankCard, li.card_no).status = "closed"
        factory = session_factory(city.url)
        jobs.run_payouts(factory, TODAY)
        done = jobs.run_reconcile(factory, TODAY)
        assert (done["paid"], done["failed"]) == (0, 1)
        app = _app(city, number)
        assert app.status == "failed" and app.failure_reason
        assert balance(city, li.account_id) == (3_000_000, 0)  # back whole
        city.ledger_ok()
        with transaction(city.url) as s:
            batch = s.scalars(select(WdPayoutBatch)).one()
            assert (batch.status, batch.paid_count, batch.failed_count) == ("settled", 0, 1)
            texts = [m.content for m in s.scalars(select(OutboxMessage))]
        assert any(number in t and "已退回" in t for t in texts)
        assert json.loads(app.details_json)["rent_months"] == 2


def test_purchase_by_husband_and_wife_together_at_most_the_price(city):
    with clock.frozen(TODAY):
        husband = saver(city, 31, "张丈夫", 60_000_000)
        wife = saver(city, 32, "李妻子", 50_000_000)
        with transaction(city.url) as s:
            s.add(RegMarriage(record_no="J530102-2015-001", party_a_id_number=husband.id_number,
                              party_a_name=husband.name, party_b_id_number=wife.id_number,
                              party_b_name=wife.name, married_on=date(2015, 5, 1),
                              divorced_on=None))
        home(city, husband.id_number, "云(2025)昆明市不动产权第0000031号", 9_000, date(2025, 12, 1))
        purchase(city, husband.id_number, "WQ2025-0031", 100_000_000, date(2025, 10, 1))
        clerk = city.staff("clerk")

        def apply(who, **extra):
            return city.call("wd.purchase", {"member_no": who.member_no, "bank_code": "ICBC",
                                             "card_no": who.card_no,
                                             "contract_no": "WQ2025-0031", **extra},
                             clerk, channel="counter")

        r = apply(husband)
        assert r.status_code == 200, r.text
        assert r.json()["result"]["amount_fen"] == 60_000_000 - 1_000  # all but the minimum
        # The wife's account pays the rest of the price, no more: 1,000,000 - 599,990 yuan.
        r = apply(wife)
        assert r.status_code == 200, r.text
        assert r.json()["result"]["amount_fen"] == 100_000_000 - 59_999_000
        # Nothing of the price is left for a third withdrawal.
        r = apply(wife, amount_fen=100_000)
        assert r.status_code == 422, r.text
        codes = [x["code"] for x in r.json()["details"]["refusals"]]
        assert codes == ["WD_TOO_FREQUENT", "WD_CAP_EXCEEDED"], codes
        # A contract the family did not sign is no match.
        r = apply(wife, contract_no="WQ2025-9999")
        assert r.status_code == 422 and r.json()["code"] == "WD_NO_DATA_MATCH", r.text
        assert "WQ2025-9999" in r.json()["message"]
        # The spouse applying from the holder's account: only with the marriage on record.
        stranger = saver(city, 33, "王路人", 1_000_000)
        r = apply(husband, spouse_id_number=stranger.id_number, amount_fen=10_000)
        assert r.status_code == 422, r.text
        codes = [x["code"] for x in r.json()["details"]["refusals"]]
        assert "WD_NO_DATA_MATCH" in codes, codes
        city.ledger_ok()


class _Bank:
    """A bank whose statement we write. "omit": it pays the first instruction, leaves the
    second out and lists a payment nobody asked for (what a reconciliation must survive);
    "complete" afterwards: its resent statement answers for every line, the second failed."""

    def __init__(self, mode: str = "omit") -> None:
        self.files: dict[str, bytes] = {}
        self.mode = mode

    def submit(self, bank_code: str, batch_no: str, content: bytes) -> None:
        self.files[batch_no] = content

    def statement(self, bank_code: str, batch_no: str) -> bytes | None:
        batch = bank_files.read_batch(self.files[batch_no])
        first = batch.items[0]
        if self.mode == "other_batch":
            line = bank_files.StatementLine(1, first.reference, "ICBC-P1", first.amount_fen,
                                            bank_files.SUCCESS, "", TODAY)
            return bank_files.write_statement("WD20260316ICBC0999", bank_code, TODAY, [line])
        if self.mode == "other_amount":
            lines = [bank_files.StatementLine(i.seq, i.reference, f"ICBC-P{i.seq}",
                                              i.amount_fen - 1, bank_files.SUCCESS, "", TODAY)
                     for i in batch.items]
            return bank_files.write_statement(batch_no, bank_code, TODAY, lines)
        lines = [bank_files.StatementLine(1, first.reference, "ICBC-P000000001", first.amount_fen,
                                          bank_files.SUCCESS, "", TODAY)]
        if self.mode == "complete":
            second = batch.items[1]
            lines.append(bank_files.StatementLine(2, second.reference, "", second.amount_fen,
                                                  "3001", "户名不符", TODAY))
        else:
            lines.append(bank_files.StatementLine(2, "YW999999999999", "ICBC-P000000002", 100,
                                                  bank_files.SUCCESS, "", TODAY))
        return bank_files.write_statement(batch_no, bank_code, TODAY, lines)


def test_a_payout_missing_from_the_statement_waits_for_the_bank(city):
    """Left out of the statement, a payout may still have been paid: it stays pending (never
    returned on a guess) until the bank's resent statement answers for it."""
    with clock.frozen(TODAY):
        a = saver(city, 41, "甲回单", 3_000_000)
        b = saver(city, 42, "乙回单", 3_000_000)
        for who in (a, b):
            r = city.call("wd.rent", {"member_no": who.member_no, "bank_code": "ICBC",
                                      "card_no": who.card_no, "rent_months": 1},
                          city.staff("clerk"), channel="counter")
            assert r.status_code == 200, r.text
        bank = _Bank()
        with transaction(city.url) as s:
            payouts.make_batches(s, TODAY)
            assert len(payouts.submit_pending(s, bank)) == 1
        for paid_now in (1, 0):  # read again by the next run: nothing is matched twice
            with transaction(city.url) as s:
                summary = payouts.reconcile(s, bank, TODAY)
            assert (summary["paid"], summary["failed"]) == (paid_now, 0)
            assert any("YW999999999999" in p for p in summary["problems"])
            assert len(summary["waiting"]) == 1
            assert balance(city, a.account_id) == (3_000_000 - 150_000, 0)
            assert balance(city, b.account_id) == (3_000_000 - 150_000, 0)  # still pending
            with transaction(city.url) as s:
                batch = s.scalars(select(WdPayoutBatch)).one()
                assert (batch.status, batch.paid_count, batch.failed_count) == ("submitted", 1, 0)
            city.ledger_ok()
        bank.mode = "complete"  # the bank resends the whole statement: the second failed
        with transaction(city.url) as s:
            summary = payouts.reconcile(s, bank, TODAY)
        assert (summary["paid"], summary["failed"], summary["waiting"]) == (0, 1, [])
        assert summary["problems"] == []
        assert balance(city, a.account_id) == (3_000_000 - 150_000, 0)
        assert balance(city, b.account_id) == (3_000_000, 0)  # returned whole
        with transaction(city.url) as s:
            batch = s.scalars(select(WdPayoutBatch)).one()
            assert (batch.status, batch.paid_count, batch.failed_count) == ("settled", 1, 1)
            assert [x.status for x in s.scalars(select(WdApplication)
                                                .order_by(WdApplication.id))] == ["paid", "failed"]
        city.ledger_ok()


@pytest.mark.parametrize("mode", ["other_batch", "other_amount"])
def test_a_statement_that_does_not_fit_pays_and_returns_nothing(city, mode):
    with clock.frozen(TODAY):
        a = saver(city, 43, "丙回单", 3_000_000)
        r = city.call("wd.rent", {"member_no": a.member_no, "bank_code": "ICBC",
                                  "card_no": a.card_no, "rent_months": 1},
                      city.staff("clerk"), channel="counter")
        assert r.status_code == 200, r.text
        number = r.json()["application_no"]
        bank = _Bank(mode)
        with transaction(city.url) as s:
            payouts.make_batches(s, TODAY)
            payouts.submit_pending(s, bank)
        if mode == "other_batch":
            # Another batch's statement: refused, the batch waits for its own.
            with pytest.raises(HpfError) as refused, transaction(city.url) as s:
                payouts.reconcile(s, bank, TODAY)
            assert refused.value.code == "BANK_STATEMENT_MISMATCH"
            expected = "paying"
        else:
            # The bank says it paid a fen less: held for staff, neither paid nor returned.
            with transaction(city.url) as s:
                summary = payouts.reconcile(s, bank, TODAY)
            assert (summary["paid"], summary["failed"]) == (0, 0) and summary["problems"]
            expected = "disputed"
        assert _app(city, number).status == expected
        assert balance(city, a.account_id) == (3_000_000 - 150_000, 0)  # not refunded
        city.ledger_ok()


def _resolve(city, params: dict):
    """A reviewer records what the bank confirmed; an approver approves it."""
    r = city.client.post("/api/v1/mgmt/changes/mgmt.wd_payout", json=params,
                         headers={**city.staff("rev1"), "X-HPF-Channel": "counter"})
    if r.status_code != 202:
        return r
    return city.decide(r.json()["command_id"], "rev2")


@pytest.mark.parametrize("outcome", ["paid", "returned", "resend"])
def test_staff_settle_a_disputed_payout_with_two_pairs_of_eyes(city, outcome):
    with clock.frozen(TODAY):
        a = saver(city, 44, "丁争议", 3_000_000)
        r = city.call("wd.rent", {"member_no": a.member_no, "bank_code": "ICBC",
                                  "card_no": a.card_no, "rent_months": 1},
                      city.staff("clerk"), channel="counter")
        number = r.json()["application_no"]
        bank = _Bank("other_amount")
        with transaction(city.url) as s:
            payouts.make_batches(s, TODAY)
            payouts.submit_pending(s, bank)
        with transaction(city.url) as s:
            payouts.reconcile(s, bank, TODAY)
        assert _app(city, number).status == "disputed"
        # Bad input: refused whole, nothing applied.
        for bad in ({"application_no": number, "outcome": "paid", "reason": "银行已确认"},
                    {"application_no": number, "outcome": "returned", "reason": "未付",
                     "bank_txn_id": "X1"},
                    {"application_no": "YW1", "outcome": "returned", "reason": "未付"}):
            refused = city.client.post("/api/v1/mgmt/changes/mgmt.wd_payout", json=bad,
                                       headers={**city.staff("rev1"), "X-HPF-Channel": "counter"})
            assert refused.status_code == 422 and refused.json()["code"] == "INVALID_PARAMS"
        # A clerk may not make the change.
        r = city.client.post("/api/v1/mgmt/changes/mgmt.wd_payout",
                             json={"application_no": number, "outcome": "returned",
                                   "reason": "银行确认未付"},
                             headers={**city.staff("clerk"), "X-HPF-Channel": "counter"})
        assert r.status_code == 403, r.text
        params = {"application_no": number, "outcome": outcome, "reason": "已与银行核实"}
        if outcome == "paid":
            params["bank_txn_id"] = "ICBC-P1"
        if outcome == "resend":
            params.update(bank_code="ICBC", card_no=a.card_no)
        body = _resolve(city, params).json()
        assert body["status"] == "succeeded", body
        app = _app(city, number)
        expected = {"paid": ("paid", 3_000_000 - 150_000), "returned": ("failed", 3_000_000),
                    "resend": ("approved", 3_000_000 - 150_000)}[outcome]
        assert (app.status, balance(city, a.account_id)[0]) == expected
        city.ledger_ok()
        # Decided once: a second change finds nothing disputed.
        again = _resolve(city, {"application_no": number, "outcome": "returned",
                                "reason": "重复处理"})
        assert again.json()["status"] == "failed"
        assert again.json()["error"]["code"] == "WD_NOT_DISPUTED"
        if outcome == "resend":  # paid again with the next batch, by the local bank
            factory = session_factory(city.url)
            assert len(jobs.run_payouts(factory, TODAY)["sent"]) == 1
            assert jobs.run_reconcile(factory, TODAY)["paid"] == 1
            assert _app(city, number).status == "paid"
            city.ledger_ok()


def test_staff_settle_a_payout_the_bank_never_answered_for(city):
    with clock.frozen(TODAY):
        a = saver(city, 45, "戊遗漏", 3_000_000)
        b = saver(city, 46, "己遗漏", 3_000_000)
        numbers = []
        for who in (a, b):
            r = city.call("wd.rent", {"member_no": who.member_no, "bank_code": "ICBC",
                                      "card_no": who.card_no, "rent_months": 1},
                          city.staff("clerk"), channel="counter")
            numbers.append(r.json()["application_no"])
        bank = _Bank()  # pays the first, leaves the second out
        with transaction(city.url) as s:
            payouts.make_batches(s, TODAY)
            payouts.submit_pending(s, bank)
        params = {"application_no": numbers[1], "outcome": "returned", "reason": "银行确认未付"}
        # Before any statement it is simply with the bank: not for staff to settle.
        early = _resolve(city, params).json()
        assert early["status"] == "failed" and early["error"]["code"] == "WD_NOT_DISPUTED"
        with transaction(city.url) as s:
            assert payouts.reconcile(s, bank, TODAY)["waiting"] == [numbers[1]]
        assert _resolve(city, params).json()["status"] == "succeeded"
        assert _app(city, numbers[1]).status == "failed"
        assert balance(city, b.account_id) == (3_000_000, 0)  # back, whole
        with transaction(city.url) as s:  # the next run finds nothing left waiting
            assert payouts.reconcile(s, bank, TODAY)["waiting"] == []
            assert s.scalars(select(WdPayoutBatch)).one().status == "settled"
        city.ledger_ok()
