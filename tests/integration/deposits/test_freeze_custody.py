"""Custody by the centre, judicial freeze and unfreeze."""

from datetime import date

from sqlalchemy import select

from hpf.deposits import remittance
from hpf.deposits.models import Employer, Freeze, Member
from hpf.kit import clock
from hpf.kit.db import transaction
from hpf.ledger.models import LedgerAccount, Reservation

from .conftest import CARD


def _pay(city, headers, period):
    for action in ("generate", "confirm"):
        assert city.call("dep.remit", {"action": action, "period": period},
                         headers).status_code == 200
    r = city.call("dep.remit", {"action": "pay", "period": period, "method": "debit",
                                "account_no": CARD}, headers)
    assert r.json()["result"]["status"] == "credited", r.text


def _member(city, member_no):
    with transaction(city.url) as s:
        m = s.scalars(select(Member).where(Member.member_no == member_no)).one()
        account = s.get(LedgerAccount, m.account_id)
        employer = s.get(Employer, m.employer_id)
        return m.status, employer.kind, account.balance_fen, account.reserved_fen


def test_custody_refused_with_arrears_then_moves_the_account(city):
    unit = city.login("unit", "unit01")
    a = city.open_member(unit, 1, "卢青怡", 586_600)
    r = city.call("dep.custody", {"member_no": a, "reason": "人事代理"}, unit)
    assert r.status_code == 409 and r.json()["code"] == "EMPLOYER_IN_ARREARS", r.text
    assert r.json()["details"]["months"] == [202601, 202602]
    _pay(city, unit, 202601)
    _pay(city, unit, 202602)
    r = city.call("dep.custody", {"member_no": a, "reason": "人事代理"}, unit)
    assert r.status_code == 202 and r.json()["approvals_required"] == 1, r.text
    body = city.approve(r, "rev1")
    assert body["status"] == "succeeded", body
    assert body["result"]["from_unit"] == city.unit_no and body["result"]["status"] == "02"
    assert _member(city, a) == ("02", "custody", 281_600, 0)
    account = city.call("q.member_account", {"member_no": a}, city.staff("clerk"),
                        channel="counter").json()["result"]
    assert (account["unit_name"], account["status_zh"]) == ("住房公积金管理中心托管户", "封存")
    # The employer no longer holds the member.
    r = city.call("dep.seal", {"member_no": a, "reason": "x"}, unit)
    assert r.status_code == 403 and r.json()["code"] == "OTHER_EMPLOYER"
    r = city.call("dep.custody", {"member_no": a, "reason": "再次托管"}, city.staff("clerk"),
                  channel="counter")
    body = city.approve(r, "rev1")
    assert body["status"] == "failed" and body["error"]["code"] == "ALREADY_IN_CUSTODY"
    # Months later the centre's custody employer owes nothing and is sent no arrears notice.
    with clock.frozen(date(2026, 6, 10)), transaction(city.url) as s:
        custody = s.scalars(select(Employer).where(Employer.kind == "custody")).one()
        assert remittance.arrears(s, custody)["months"] == []
        assert remittance.notify_arrears(s) == 1  # the city's employer only (March to May)
    city.ledger_ok()


def test_freeze_is_for_staff_at_the_counter_only(city):
    unit = city.login("unit", "unit01")
    a = city.open_member(unit, 2, "王伟", 300_000)
    me = city.member_login(a)
    body = {"member_no": a, "authority": "五华区人民法院", "document_no": "(2026)云0102执1号"}
    for headers, channel, code in [
        (me, "hall", "SERVICE_NOT_ON_CHANNEL"), (me, "counter", "ACTOR_NOT_ALLOWED"),
        (unit, "hall", "SERVICE_NOT_ON_CHANNEL"), (unit, "counter", "ACTOR_NOT_ALLOWED"),
        (city.staff("clerk"), "hall", "SERVICE_NOT_ON_CHANNEL"),
    ]:
        for service in ("dep.freeze", "dep.unfreeze"):
            r = city.call(service, body, headers, channel=channel)
            assert r.status_code == 403 and r.json()["code"] == code, (service, channel, r.text)
    assert _member(city, a)[0] == "01"


def test_whole_account_freeze_blocks_moves_until_lifted(city):
    unit = city.login("unit", "unit01")
    a = city.open_member(unit, 3, "赵敏", 500_000)
    clerk = city.staff("clerk")
    target = city.employer(401, "滇西贸易有限公司", "unit02")
    r = city.call("dep.freeze", {"member_no": a, "authority": "五华区人民法院",
                                 "document_no": "(2026)云0102执1号", "until": "2026-03-16"},
                  clerk, channel="counter")
    assert r.status_code == 422 and r.json()["code"] == "INVALID_DATE"
    r = city.call("dep.freeze", {"member_no": a, "authority": "五华区人民法院",
                                 "document_no": "(2026)云0102执1号", "until": "2027-03-16"},
                  clerk, channel="counter")
    assert r.status_code == 200, r.text
    assert r.json()["result"]["status"] == "06"
    assert _member(city, a)[0] == "06"
    for service, params, code in [
        ("dep.transfer_local", {"member_no": a, "to_unit_no": target}, "MEMBER_FROZEN"),
        ("dep.seal", {"member_no": a, "reason": "离职"}, "MEMBER_NOT_NORMAL"),
        ("dep.custody", {"member_no": a, "reason": "托管"}, "MEMBER_FROZEN"),
    ]:
        r = city.call(service, params, unit)
        assert r.status_code == 409 and r.json()["code"] == code, (service, r.text)
    r = city.call("dep.unfreeze", {"member_no": a, "document_no": "(2026)云0102执2号"}, clerk,
                  channel="counter")
    assert r.status_code == 200 and r.json()["result"]["status"] == "01", r.text
    r = city.call("dep.unfreeze", {"member_no": a, "document_no": "(2026)云0102执3号"}, clerk,
                  channel="counter")
    assert r.status_code == 404 and r.json()["code"] == "NO_ACTIVE_FREEZE"
    with transaction(city.url) as s:
        record = s.scalars(select(Freeze)).one()
        assert (record.status, record.prior_status, record.unfreeze_document_no) == (
            "lifted", "01", "(2026)云0102执2号")
    r = city.call("dep.transfer_local", {"member_no": a, "to_unit_no": target}, unit)
    assert r.status_code == 200, r.text


def test_amount_freeze_reserves_money_and_unfreeze_releases_it(city):
    unit = city.login("unit", "unit01")
    a = city.open_member(unit, 4, "周杰", 500_000)
    _pay(city, unit, 202601)  # 120_000 on the account
    clerk = city.staff("clerk")
    court = {"member_no": a, "authority": "五华区人民法院"}
    r = city.call("dep.freeze", {**court, "document_no": "(2026)云0102执9号",
                                 "amount_fen": 120_001}, clerk, channel="counter")
    assert r.status_code == 409 and r.json()["code"] == "LEDGER_INSUFFICIENT"
    r = city.call("dep.freeze", {**court, "document_no": "(2026)云0102执10号",
                                 "amount_fen": 50_000}, clerk, channel="counter")
    assert r.status_code == 200, r.text
    assert r.json()["result"]["status"] == "01"  # an amount freeze leaves the account usable
    assert _member(city, a) == ("01", "ordinary", 120_000, 50_000)
    account = city.call("q.member_account", {"member_no": a}, clerk,
                        channel="counter").json()["result"]
    assert (account["balance_fen"], account["available_fen"]) == (120_000, 70_000)
    # A second court order on top, then a whole-account freeze.
    city.call("dep.freeze", {**court, "document_no": "(2026)云0102执11号", "amount_fen": 70_000},
              clerk, channel="counter")
    assert _member(city, a)[3] == 120_000
    city.call("dep.freeze", {**court, "document_no": "(2026)云0102执12号"}, clerk,
              channel="counter")
    assert _member(city, a)[0] == "06"
    city.ledger_ok()
    # Unfreezes lift the latest first: the whole freeze, then each amount.
    lifted = [city.call("dep.unfreeze", {"member_no": a, "document_no": f"(2026)云0102解{i}号"},
                        clerk, channel="counter").json()["result"]["status"] for i in range(3)]
    assert lifted == ["01", "01", "01"]
    assert _member(city, a) == ("01", "ordinary", 120_000, 0)
    with transaction(city.url) as s:
        assert sorted(s.scalars(select(Reservation.status))) == ["released", "released"]
        assert set(s.scalars(select(Freeze.status))) == {"lifted"}
    city.ledger_ok()
