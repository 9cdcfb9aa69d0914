"""End to end through the gateway: open members, remit a month, credit, verify the ledger."""

from datetime import date

from sqlalchemy import func, select

from hpf.deposits.models import Member, Receipt, RemitList
from hpf.gateway.models import Command
from hpf.kit import clock
from hpf.kit.db import transaction
from hpf.ledger.models import LedgerAccount, Posting
from hpf.ledger.verify import verify


def _open(city, headers, n, name, base_fen):
    id_number = city.person(n, name)
    r = city.call("dep.member_open", {"name": name, "id_number": id_number,
                                      "base_fen": base_fen, "first_month": 202601}, headers)
    assert r.status_code == 200, r.text
    return r.json()["result"]["member_no"]


def test_month_remittance_credits_every_member(city):
    unit = city.login("unit", "unit01")
    a = _open(city, unit, 1, "卢青怡", 586_600)   # seed 003: 5866 × 12% = 703.92 -> 704
    b = _open(city, unit, 2, "王伟", 300_000)     # 3000 × 12% = 360
    r = city.call("dep.remit", {"action": "generate", "period": 202601}, unit)
    assert r.status_code == 200, r.text
    listed = r.json()["result"]
    assert listed["member_count"] == 2
    assert listed["unit_total_fen"] == 70_400 + 36_000
    assert listed["total_fen"] == 2 * (70_400 + 36_000)
    assert city.call("dep.remit", {"action": "confirm", "period": 202601}, unit).status_code == 200
    r = city.call("dep.remit", {"action": "pay", "period": 202601, "method": "debit",
                                "account_no": "6222021234567890"}, unit)
    assert r.status_code == 200, r.text
    assert r.json()["result"]["status"] == "credited"
    with transaction(city.url) as s:
        balances = dict(s.execute(
            select(Member.member_no, LedgerAccount.balance_fen)
            .join(LedgerAccount, LedgerAccount.id == Member.account_id)).all())
        assert balances == {a: 140_800, b: 72_000}
        assert verify(s).ok, verify(s).problems
    me = city.call("q.unit_info", {}, unit).json()["result"]
    assert me["paid_through"] == 202601
    assert me["arrears_months"] == [202602]  # today is 2026-03-16: February is overdue


def test_mismatched_payment_waits_in_suspense(city):
    unit = city.login("unit", "unit01")
    _open(city, unit, 3, "赵敏", 500_000)
    listed = city.call("dep.remit", {"action": "generate", "period": 202601}, unit).json()
    city.call("dep.remit", {"action": "confirm", "period": 202601}, unit)
    from hpf.deposits import remittance

    with clock.frozen(date(2026, 3, 16)), transaction(city.url) as s:
        receipt = remittance.record_receipt(
            s, bank_code="ICBC", bank_txn_id="T-1", amount_fen=listed["result"]["total_fen"] - 1,
            payer_name="春城科技有限公司", payer_account=None,
            reference=listed["result"]["reference"], arrived_on=date(2026, 3, 16))
        assert receipt.status == "suspense"
        assert "不符" in receipt.note
        credited = s.scalar(select(func.count()).select_from(Posting)
                            .where(Posting.entry_type == "remit"))
        assert credited == 0
        again = remittance.record_receipt(
            s, bank_code="ICBC", bank_txn_id="T-1", amount_fen=1, payer_name="x",
            payer_account=None, reference=None, arrived_on=date(2026, 3, 16))
        assert again.id == receipt.id  # the same bank transaction is booked once
        assert s.scalar(select(func.count()).select_from(Receipt)) == 1
        assert verify(s).ok


def test_idempotent_retry_and_mismatch(city):
    unit = city.login("unit", "unit01")
    id_number = city.person(5, "钱多多")
    body = {"name": "钱多多", "id_number": id_number, "base_fen": 400_000}
    first = city.call("dep.member_open", body, unit, key="open-qdd-0001")
    again = city.call("dep.member_open", body, unit, key="open-qdd-0001")
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other = city.call("dep.member_open", {**body, "base_fen": 500_000}, unit, key="open-qdd-0001")
    assert other.status_code == 409
    assert other.json()["code"] == "IDEMPOTENCY_MISMATCH"
    with transaction(city.url) as s:
        assert s.scalar(select(func.count()).select_from(Member)) == 1


def test_bad_input_is_refused_and_writes_nothing(city):
    unit = city.login("unit", "unit01")
    id_number = city.person(6, "孙悟")
    wrong_check = id_number[:17] + ("0" if id_number[17] != "0" else "1")
    cases = [
        ({"name": "孙悟", "id_number": wrong_check, "base_fen": 400_000}, "INVALID_ID_NUMBER"),
        ({"name": "孙悟", "id_number": "53010219900230001X", "base_fen": 400_000},
         "INVALID_ID_NUMBER"),
        ({"name": "孙悟", "id_number": id_number, "base_fen": -5}, "INVALID_PARAMS"),
        ({"name": "孙悟", "id_number": id_number, "base_fen": 0}, "INVALID_PARAMS"),
        ({"name": "孙悟", "id_number": id_number, "base_fen": 10**15}, "INVALID_PARAMS"),
        ({"name": "孙悟", "id_number": id_number, "base_fen": 100}, "BASE_BELOW_FLOOR"),
        ({"name": "孙悟", "id_number": id_number, "base_fen": 400_000, "x": 1}, "INVALID_PARAMS"),
        ({"name": "猪八戒", "id_number": id_number, "base_fen": 400_000}, "IDENTITY_MISMATCH"),
        ({"name": "孙悟", "id_number": id_number, "base_fen": 400_000,
          "unit_ratio_bps": 1300}, "RATIO_OUT_OF_RANGE"),
    ]
    for body, code in cases:
        r = city.call("dep.member_open", body, unit)
        assert 400 <= r.status_code < 500, (body, r.text)
        assert r.json()["code"] == code, (body, r.json())
        assert r.json()["message"]
    r = city.call("dep.remit", {"action": "generate", "period": 202612}, unit)
    assert r.status_code == 422 and r.json()["code"] == "MONTH_IN_FUTURE"
    with transaction(city.url) as s:
        assert s.scalar(select(func.count()).select_from(Member)) == 0
        assert s.scalar(select(func.count()).select_from(RemitList)) == 0
        failed = s.scalar(select(func.count()).select_from(Command)
                          .where(Command.status == "failed"))
        assert failed >= 3  # refusals are recorded, and nothing else


def test_ratio_change_needs_two_distinct_approvals(city):
    unit = city.login("unit", "unit01")
    _open(city, unit, 7, "周杰", 500_000)
    r = city.call("dep.ratio_adjust", {"unit_ratio_bps": 1000, "member_ratio_bps": 1000,
                                       "from_month": 202603, "reason": "经职代会决议"}, unit)
    assert r.status_code == 202, r.text
    command_id = int(r.headers["X-Command-Id"])
    rev1, rev2 = city.login("staff", "rev1"), city.login("staff", "rev2")
    r = city.client.post(f"/api/v1/approvals/{command_id}", json={"approve": True}, headers=rev1)
    assert r.json()["status"] == "pending"
    r = city.client.post(f"/api/v1/approvals/{command_id}", json={"approve": True}, headers=rev1)
    assert r.status_code == 409
    r = city.client.post(f"/api/v1/approvals/{command_id}", json={"approve": True}, headers=rev2)
    assert r.json()["status"] == "succeeded", r.json()
    info = city.call("q.unit_info", {}, unit).json()["result"]
    assert info["unit_ratio_bps"] == 1000
    r = city.call("dep.ratio_adjust", {"unit_ratio_bps": 400, "member_ratio_bps": 1000,
                                       "from_month": 202603, "reason": "x"}, unit)
    assert r.status_code == 422 and r.json()["code"] == "RATIO_OUT_OF_RANGE"
