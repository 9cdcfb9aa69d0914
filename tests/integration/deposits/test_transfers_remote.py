"""Inter-city transfers: the contact letter, the other centre's confirmation, the funds."""

import json
from datetime import date

from sqlalchemy import select

from hpf.deposits.models import Member, Receipt, RemoteTransfer
from hpf.kit import clock
from hpf.kit.db import transaction
from hpf.ledger import domain as ledger_domain
from hpf.ledger.models import LedgerAccount, Posting, Reservation

from .conftest import CARD

SHANGHAI = {"from_centre": "上海市住房公积金管理中心", "from_account_no": "SH0012345678"}
OUT = {"to_centre": "上海市住房公积金管理中心", "to_account_no": "SH0099887766"}


def _account(city, member_no):
    with transaction(city.url) as s:
        m = s.scalars(select(Member).where(Member.member_no == member_no)).one()
        a = s.get(LedgerAccount, m.account_id)
        return m.status, a.balance_fen, a.reserved_fen, a.closed_on


def test_transfer_in_letter_confirmation_and_arrival(city):
    unit = city.login("unit", "unit01")
    a = city.open_member(unit, 1, "卢青怡", 586_600)
    me = city.member_login(a)
    r = city.call("dep.transfer_remote_in", SHANGHAI, me, channel="app")
    assert r.status_code == 202 and r.json()["approvals_required"] == 1, r.text
    letter = city.approve(r, "rev1")
    assert letter["status"] == "succeeded", letter
    letter_no = letter["result"]["letter_no"]
    assert letter_no.startswith("LXH20260316")
    assert letter["result"]["status"] == "letter_sent"
    r = city.call("dep.transfer_remote_in", SHANGHAI, me, channel="app")
    assert r.status_code == 409 and r.json()["code"] == "TRANSFER_IN_PROGRESS"

    staff = city.staff("clerk")
    confirm = {**SHANGHAI, "action": "confirm", "letter_no": letter_no}
    r = city.call("dep.transfer_remote_in", {**confirm, "amount_fen": 1_234_567}, me,
                  channel="app")
    assert r.status_code == 403 and r.json()["code"] == "STAFF_ONLY"
    r = city.call("dep.transfer_remote_in", confirm, staff, channel="counter")
    assert r.status_code == 422 and r.json()["code"] == "AMOUNT_REQUIRED"
    r = city.call("dep.transfer_remote_in", {**confirm, "letter_no": None, "amount_fen": 1},
                  staff, channel="counter")
    assert r.status_code == 422 and r.json()["code"] == "LETTER_NO_REQUIRED"
    r = city.call("dep.transfer_remote_in", {**confirm, "letter_no": "LXH00000000NONE",
                                             "amount_fen": 1}, staff, channel="counter")
    assert r.status_code == 404 and r.json()["code"] == "LETTER_NOT_FOUND"
    history = [{"period": 202401, "unit": "上海某公司", "amount_fen": 200_000},
               {"period": 202402, "unit": "上海某公司", "amount_fen": 200_000}]
    r = city.call("dep.transfer_remote_in", {**confirm, "amount_fen": 1_234_567,
                                             "history": history}, staff, channel="counter")
    assert r.status_code == 200, r.text
    assert (r.json()["result"]["status"], r.json()["result"]["amount_fen"]) == (
        "confirmed", 1_234_567)
    r = city.call("dep.transfer_remote_in", {**confirm, "amount_fen": 1_234_567}, staff,
                  channel="counter")
    assert r.status_code == 409 and r.json()["code"] == "TRANSFER_STATE"
    assert r.json()["details"]["state"] == "confirmed"

    arrive = {**SHANGHAI, "action": "arrive", "letter_no": letter_no}
    r = city.call("dep.transfer_remote_in", {**arrive, "amount_fen": 1_234_567}, staff,
                  channel="counter")
    assert r.status_code == 422 and r.json()["code"] == "BANK_TXN_REQUIRED"
    # Less than confirmed: booked, but held in suspense for staff.
    r = city.call("dep.transfer_remote_in", {**arrive, "amount_fen": 1_234_500,
                                             "bank_txn_id": "SH-T-0001"}, staff,
                  channel="counter")
    assert r.status_code == 200, r.text
    assert r.json()["result"]["matched"] is False
    assert _account(city, a)[1] == 0
    with transaction(city.url) as s:
        receipt = s.scalars(select(Receipt).where(Receipt.bank_txn_id == "SH-T-0001")).one()
        assert receipt.status == "suspense" and "不符" in receipt.note
        suspense = s.get(LedgerAccount, receipt.suspense_account_id)
        assert (suspense.subject_code, suspense.balance_fen) == (
            ledger_domain.OTHER_SUSPENSE, 1_234_500)
    city.ledger_ok()
    # The member number, when given, must be the letter's.
    other = city.open_member(unit, 2, "王伟", 300_000)
    r = city.call("dep.transfer_remote_in", {**arrive, "member_no": other, "amount_fen": 1_234_567,
                                             "bank_txn_id": "SH-T-0002"}, staff,
                  channel="counter")
    assert r.status_code == 422 and r.json()["code"] == "LETTER_MEMBER_MISMATCH"
    r = city.call("dep.transfer_remote_in", {**arrive, "amount_fen": 1_234_567,
                                             "bank_txn_id": "SH-T-0002"}, staff,
                  channel="counter")
    assert r.status_code == 200, r.text
    assert (r.json()["result"]["matched"], r.json()["result"]["status"]) == (True, "completed")
    assert _account(city, a)[:2] == ("01", 1_234_567)
    r = city.call("dep.transfer_remote_in", {**arrive, "amount_fen": 1_234_567,
                                             "bank_txn_id": "SH-T-0003"}, staff,
                  channel="counter")
    assert r.status_code == 409 and r.json()["code"] == "TRANSFER_STATE"
    with transaction(city.url) as s:
        transfer = s.scalars(select(RemoteTransfer).where(
            RemoteTransfer.letter_no == letter_no)).one()
        assert json.loads(transfer.history_json) == history
        assert transfer.completed_on == date(2026, 3, 16)
        m = s.scalars(select(Member).where(Member.member_no == a)).one()
        assert s.scalars(select(Posting.entry_type).where(
            Posting.account_id == m.account_id)).all() == ["transfer_in"]
    details = city.call("q.member_details", {}, me, channel="app").json()["result"]
    assert (details["lines"][0]["entry_type"], details["lines"][0]["amount_fen"]) == (
        "transfer_in", 1_234_567)
    city.ledger_ok()


def _fund_in_january(city):
    """Two members whose January deposits were credited on 2026-01-20."""
    with clock.frozen(date(2026, 1, 20)):
        unit = city.login("unit", "unit01")
        a = city.open_member(unit, 3, "赵敏", 586_600, phone="13800000003")
        b = city.open_member(unit, 4, "周杰", 300_000)
        for action in ("generate", "confirm"):
            assert city.call("dep.remit", {"action": action, "period": 202601},
                             unit).status_code == 200
        r = city.call("dep.remit", {"action": "pay", "period": 202601, "method": "debit",
                                    "account_no": CARD}, unit)
        assert r.json()["result"]["status"] == "credited", r.text
    city.forget_logins()  # the sessions went idle while the clock moved
    return a, b


def test_transfer_out_pays_interest_to_date_and_closes_the_account(city):
    a, b = _fund_in_january(city)
    assert _account(city, a)[:3] == ("01", 140_800, 0)
    me = city.member_login(a)
    # Money leaving the fund: the member confirms with a code sent to their phone (短信验证).
    r = city.call("dep.transfer_remote_out", {**OUT, "letter_no": "SHLX2026030001"}, me)
    assert r.status_code == 401 and r.json()["code"] == "SMS_CODE_REQUIRED", r.text
    r = city.call("dep.transfer_remote_out", {**OUT, "letter_no": "SHLX2026030001"},
                  city.sms_code(me, "dep.transfer_remote_out"))
    assert r.status_code == 202, r.text
    command_id = int(r.headers["X-Command-Id"])
    # The application holds the whole balance: nothing else can spend it meanwhile.
    assert _account(city, a)[:3] == ("01", 140_800, 140_800)
    account = city.call("q.member_account", {}, me).json()["result"]
    assert account["available_fen"] == 0
    # A second application while the first awaits review is refused as in flight (在途业务).
    r = city.call("dep.transfer_remote_out", {**OUT, "letter_no": "SHLX2026030002"}, me)
    assert r.status_code == 409 and r.json()["code"] == "IN_FLIGHT_CONFLICT", r.text
    assert r.json()["details"]["application_no"] == f"YW{command_id:012d}"
    # The employer applying for the same member is refused by the hold the first application
    # placed (the in-flight index would refuse it next, were the hold not there).
    r = city.call("dep.transfer_remote_out", {**OUT, "member_no": a,
                                              "letter_no": "SHLX2026030004"},
                  city.login("unit", "unit01"))
    assert r.status_code == 409 and r.json()["code"] == "MEMBER_HAS_HOLDS", r.text
    city.ledger_ok()

    body = city.decide(command_id, "rev1").json()
    assert body["status"] == "succeeded", body
    # Interest to date (积数法): 140 800 fen from 2026-01-20 (incl.) to 2026-03-16 (excl.) is
    # 55 days: 140 800 × 55 × 1.5% / 360 = 322.67 → 323 fen, posted before the balance leaves.
    assert (body["result"]["interest_fen"], body["result"]["amount_fen"]) == (323, 141_123)
    assert body["result"]["status"] == "completed"
    assert body["result"]["bank_txn_id"].startswith("ICBC-P")
    assert _account(city, a) == ("04", 0, 0, date(2026, 3, 16))
    with transaction(city.url) as s:
        m = s.scalars(select(Member).where(Member.member_no == a)).one()
        assert m.closed_on == date(2026, 3, 16)
        moves = s.execute(select(Posting.entry_type, Posting.side, Posting.amount_fen)
                          .where(Posting.account_id == m.account_id).order_by(Posting.id)).all()
        assert [tuple(x) for x in moves] == [("remit", "C", 140_800), ("close_interest", "C", 323),
                                             ("transfer_out", "D", 141_123)]
        assert s.scalars(select(Reservation.status)).all() == ["released"]
    r = city.call("dep.transfer_remote_out", {**OUT, "letter_no": "SHLX2026030003"},
                  city.sms_code(me, "dep.transfer_remote_out"))
    assert r.status_code == 409 and r.json()["code"] == "MEMBER_NOT_TRANSFERABLE"
    # The other centre's letter number is used once.
    unit = city.login("unit", "unit01")
    r = city.call("dep.transfer_remote_out", {**OUT, "member_no": b,
                                              "letter_no": "SHLX2026030001"}, unit)
    assert r.status_code == 409 and r.json()["code"] == "LETTER_EXISTS"
    city.ledger_ok()


def test_rejected_transfer_out_releases_the_hold(city):
    a, b = _fund_in_january(city)
    unit = city.login("unit", "unit01")
    r = city.call("dep.transfer_remote_out", {**OUT, "member_no": b,
                                              "letter_no": "SHLX2026030009"}, unit)
    assert r.status_code == 202, r.text
    assert _account(city, b)[:3] == ("01", 72_000, 72_000)
    command_id = int(r.headers["X-Command-Id"])
    rejected = city.decide(command_id, "rev1", approve=False, reason="联系函信息不全")
    assert rejected.json()["status"] == "rejected"
    assert _account(city, b) == ("01", 72_000, 0, None)
    with transaction(city.url) as s:
        assert s.scalars(select(Reservation.status)).all() == ["released"]
    # A frozen account cannot leave; an amount frozen by a court blocks the whole transfer.
    clerk = city.staff("clerk")
    court = {"member_no": a, "authority": "五华区人民法院"}
    city.call("dep.freeze", {**court, "document_no": "(2026)执1号"}, clerk, channel="counter")
    r = city.call("dep.transfer_remote_out", {**OUT, "member_no": a, "letter_no": "SHLX20260310"},
                  unit)
    assert r.status_code == 409 and r.json()["code"] == "MEMBER_FROZEN"
    city.call("dep.unfreeze", {"member_no": a, "document_no": "(2026)解1号"}, clerk,
              channel="counter")
    city.call("dep.freeze", {**court, "document_no": "(2026)执2号", "amount_fen": 10_000}, clerk,
              channel="counter")
    r = city.call("dep.transfer_remote_out", {**OUT, "member_no": a, "letter_no": "SHLX20260311"},
                  unit)
    assert r.status_code == 409 and r.json()["code"] == "MEMBER_HAS_HOLDS"
    assert _account(city, a) == ("01", 140_800, 10_000, None)
    city.ledger_ok()
