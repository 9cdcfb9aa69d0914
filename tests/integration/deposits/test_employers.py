"""Employer services end to end: registration, changes, deregistration, deferral."""

import re

from sqlalchemy import func, select

from hpf.deposits.models import Employer
from hpf.gateway.models import Approval, Command
from hpf.identity import service as identity
from hpf.identity.models import UserAccount
from hpf.kit.db import transaction
from hpf.kit.sealed import recipient_index
from hpf.notices.models import OutboxMessage

from .conftest import CARD, PASSWORD, make_uscc

ANONYMOUS: dict = {}


def _registration(uscc: str, **over) -> dict:
    return {"name": "滇池物流有限公司", "uscc": uscc, "legal_rep": "周一",
            "contact_name": "吴二", "contact_phone": "13811112222", "address": "官渡区春城路8号",
            "bank_code": "BOC", "unit_ratio_bps": 1000, "member_ratio_bps": 800,
            "first_month": 202604, "operator_login": "dianchi01", **over}


def test_unit_register_on_the_portal_needs_one_approval_and_texts_a_password(city):
    uscc = make_uscc(101)
    r = city.call("dep.unit_register", _registration(uscc), ANONYMOUS, channel="portal")
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "pending"
    assert r.json()["approvals_required"] == 1
    command_id = int(r.headers["X-Command-Id"])
    with transaction(city.url) as s:
        assert s.scalar(select(func.count()).select_from(Employer)
                        .where(Employer.uscc == uscc)) == 0  # nothing before the approval
    queue = city.client.get("/api/v1/approvals", headers=city.staff("rev1")).json()["items"]
    assert [(q["command_id"], q["service"]) for q in queue] == [(command_id, "dep.unit_register")]
    # A clerk is no reviewer; a unit operator is not even staff.
    assert city.decide(command_id, "clerk").json()["code"] == "NOT_A_REVIEWER"

    decided = city.decide(command_id, "rev1")
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["status"] == "succeeded", body
    result = body["result"]
    assert result["operator_login"] == "dianchi01"
    assert result["initial_password_sent_to"] == "138****2222"
    with transaction(city.url) as s:
        employer = s.scalars(select(Employer).where(Employer.uscc == uscc)).one()
        assert (employer.unit_no, employer.status, employer.unit_ratio_bps,
                employer.member_ratio_bps, employer.first_month, employer.bank_code) == (
            result["unit_no"], "01", 1000, 800, 202604, "BOC")
        assert employer.suspense_account_id is not None
        operator = s.scalars(select(UserAccount).where(UserAccount.login_name == "dianchi01")).one()
        assert (operator.kind, operator.employer_id) == ("unit", employer.id)
        sms = s.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient_bidx == recipient_index("13811112222"))).one()
        assert sms.template == "unit.initial_password"
        password = re.search(r"初始密码(\S+?)，", sms.content).group(1)
        # The registration is filed under the new employer once it exists.
        assert s.get(Command, command_id).employer_id == employer.id
    operator = city.login("unit", "dianchi01", password)
    info = city.call("q.unit_info", {}, operator).json()["result"]
    assert (info["name"], info["unit_no"], info["members_active"]) == (
        "滇池物流有限公司", result["unit_no"], 0)
    history = city.call("q.unit_business", {}, operator).json()["result"]["items"]
    assert [h["service"] for h in history] == ["dep.unit_register"]
    # Deciding again on a finished application is refused.
    again = city.decide(command_id, "rev2")
    assert again.status_code == 409 and again.json()["code"] == "APPLICATION_DECIDED"
    city.ledger_ok()


def test_unit_register_refusals(city):
    # The city's own employer already holds this code.
    r = city.call("dep.unit_register", _registration("91350100M000100Y43"), ANONYMOUS,
                  channel="portal")
    assert r.status_code == 409 and r.json()["code"] == "EMPLOYER_EXISTS"
    bad = make_uscc(102)[:17] + ("0" if make_uscc(102)[17] != "0" else "1")
    r = city.call("dep.unit_register", _registration(bad), ANONYMOUS, channel="portal")
    assert r.status_code == 422 and r.json()["code"] == "INVALID_USCC"
    r = city.call("dep.unit_register", _registration("91530100MA00001O2X"), ANONYMOUS,
                  channel="portal")
    assert r.status_code == 422 and r.json()["code"] == "INVALID_USCC"  # O is not in GB 32100
    for field, value in [("unit_ratio_bps", 400), ("member_ratio_bps", 1300)]:
        r = city.call("dep.unit_register", _registration(make_uscc(103), **{field: value}),
                      ANONYMOUS, channel="portal")
        assert r.status_code == 422 and r.json()["code"] == "RATIO_OUT_OF_RANGE", r.text
        assert r.json()["details"]["field"] == field
    r = city.call("dep.unit_register", _registration(make_uscc(104), bank_code="HSBC"),
                  ANONYMOUS, channel="portal")
    assert r.status_code == 422 and r.json()["code"] == "UNKNOWN_BANK"
    # Registration is not deployed on the app channel.
    r = city.call("dep.unit_register", _registration(make_uscc(105)), ANONYMOUS, channel="app")
    assert r.status_code == 403 and r.json()["code"] == "SERVICE_NOT_ON_CHANNEL"
    with transaction(city.url) as s:
        assert s.scalar(select(func.count()).select_from(Employer)) == 1
        assert s.scalar(select(func.count()).select_from(Command)
                        .where(Command.status == "pending")) == 0


def test_second_registration_of_the_same_code_fails_at_approval(city):
    uscc = make_uscc(106)
    first = city.call("dep.unit_register", _registration(uscc), ANONYMOUS, channel="portal")
    second = city.call("dep.unit_register", _registration(uscc, operator_login="dianchi02"),
                       ANONYMOUS, channel="portal")
    assert first.status_code == second.status_code == 202
    assert city.approve(first, "rev1")["status"] == "succeeded"
    body = city.approve(second, "rev1")
    assert body["status"] == "failed" and body["error"]["code"] == "EMPLOYER_EXISTS"
    with transaction(city.url) as s:
        assert s.scalar(select(func.count()).select_from(Employer)
                        .where(Employer.uscc == uscc)) == 1
        assert s.scalar(select(func.count()).select_from(UserAccount)
                        .where(UserAccount.login_name == "dianchi02")) == 0


def test_unit_change_of_the_address_needs_one_approval(city):
    unit = city.login("unit", "unit01")
    r = city.call("dep.unit_change", {"address": "西山区滇池路99号"}, unit)
    assert r.status_code == 202 and r.json()["approvals_required"] == 1
    body = city.approve(r, "rev1")
    assert body["status"] == "succeeded"
    assert body["result"]["before"] == {"address": "五华区北京路1号"}
    info = city.call("q.unit_info", {}, unit).json()["result"]
    assert info["address"] == "西山区滇池路99号"
    r = city.call("dep.unit_change", {}, unit)
    assert r.status_code == 422 and r.json()["code"] == "NOTHING_TO_CHANGE"


def test_unit_change_of_the_name_needs_two_distinct_approvers(city):
    unit = city.login("unit", "unit01")
    r = city.call("dep.unit_change", {"name": "春城数字科技有限公司"}, unit)
    assert r.status_code == 202 and r.json()["approvals_required"] == 2
    command_id = int(r.headers["X-Command-Id"])
    first = city.decide(command_id, "rev1")
    assert first.json() == {"status": "pending", "application_no": f"YW{command_id:012d}",
                            "approvals": 1, "approvals_required": 2}
    twice = city.decide(command_id, "rev1")
    assert twice.status_code == 409 and twice.json()["code"] == "ALREADY_DECIDED"
    assert city.call("q.unit_info", {}, unit).json()["result"]["name"] == "春城科技有限公司"
    last = city.decide(command_id, "rev2")
    assert last.json()["status"] == "succeeded", last.text
    assert city.call("q.unit_info", {}, unit).json()["result"]["name"] == "春城数字科技有限公司"
    with transaction(city.url) as s:
        levels = s.scalars(select(Approval.level).where(Approval.command_id == command_id)
                           .order_by(Approval.level)).all()
        assert levels == [1, 2]


def test_staff_cannot_check_their_own_application_and_reject_needs_a_reason(city):
    # A reviewer without the clerk's role takes no applications at the counter.
    r = city.call("dep.unit_change", {"unit_no": city.unit_no, "contact_phone": "13700009999"},
                  city.staff("rev1"), channel="counter")
    assert r.status_code == 403 and r.json()["code"] == "ROLE_REQUIRED", r.text
    # One who holds both takes it, and as its maker cannot be its checker.
    with transaction(city.url) as s:
        identity.create_staff(s, "both", "柜员兼审核", PASSWORD, {"clerk", "reviewer"})
    r = city.call("dep.unit_change", {"unit_no": city.unit_no, "contact_phone": "13700009999"},
                  city.staff("both"), channel="counter")
    assert r.status_code == 202
    command_id = int(r.headers["X-Command-Id"])
    own = city.decide(command_id, "both")
    assert own.status_code == 403 and own.json()["code"] == "MAKER_CANNOT_CHECK"
    no_reason = city.decide(command_id, "rev2", approve=False)
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "REASON_REQUIRED"
    blank = city.decide(command_id, "rev2", approve=False, reason="   ")
    assert blank.status_code == 422 and blank.json()["code"] == "REASON_REQUIRED"
    rejected = city.decide(command_id, "rev2", approve=False, reason="未附经办人授权书")
    assert rejected.json() == {"status": "rejected", "application_no": f"YW{command_id:012d}",
                               "reason": "未附经办人授权书"}
    with transaction(city.url) as s:
        command = s.get(Command, command_id)
        assert (command.status, command.error_code) == ("rejected", "REJECTED")
        assert s.get(Employer, city.employer_id).contact_phone == "13900001111"
    unit = city.login("unit", "unit01")
    history = city.call("q.unit_business", {}, unit).json()["result"]["items"]
    assert history[0]["status"] == "rejected"


def _remit(city, headers, period):
    for action in ("generate", "confirm"):
        r = city.call("dep.remit", {"action": action, "period": period}, headers)
        assert r.status_code == 200, r.text
    r = city.call("dep.remit", {"action": "pay", "period": period, "method": "debit",
                                "account_no": CARD}, headers)
    assert r.status_code == 200 and r.json()["result"]["status"] == "credited", r.text
    return r.json()["result"]


def test_unit_close_refused_with_members_or_arrears_then_done(city):
    unit = city.login("unit", "unit01")
    member_no = city.open_member(unit, 1, "卢青怡", 586_600)
    r = city.call("dep.unit_close", {"reason": "公司解散"}, unit)
    assert r.status_code == 409 and r.json()["code"] == "EMPLOYER_HAS_MEMBERS"
    assert r.json()["details"]["active"] == 1
    paid = [_remit(city, unit, period) for period in (202601, 202602)]
    assert [p["total_fen"] for p in paid] == [140_800, 140_800]  # 5866 × 12% → 704, twice
    assert city.call("dep.seal", {"member_no": member_no, "reason": "解除劳动合同"},
                     unit).status_code == 200
    # Paid through February, sealed: March is this month and not yet owed.
    r = city.call("dep.unit_close", {"reason": "公司解散"}, unit)
    assert r.status_code == 202 and r.json()["approvals_required"] == 2, r.text
    body = city.approve(r, "rev1", "rev2")
    assert body["status"] == "succeeded", body
    assert body["result"]["status"] == "04"
    info = city.call("q.unit_info", {}, unit).json()["result"]
    assert (info["status"], info["arrears_months"]) == ("04", [])
    with transaction(city.url) as s:
        assert s.get(Employer, city.employer_id).closed_on.isoformat() == "2026-03-16"
    id_number = city.person(2, "王伟")
    r = city.call("dep.member_open", {"name": "王伟", "id_number": id_number,
                                      "base_fen": 300_000}, unit)
    assert r.status_code == 409 and r.json()["code"] == "EMPLOYER_CLOSED"
    # The sealed member keeps the balance.
    staff = city.staff("clerk")
    account = city.call("q.member_account", {"member_no": member_no}, staff,
                        channel="counter").json()["result"]
    assert account["balance_fen"] == 281_600
    city.ledger_ok()


def test_unit_close_refused_with_arrears_at_application(city):
    unit = city.login("unit", "unit01")
    r = city.call("dep.unit_close", {"reason": "公司解散"}, unit)
    assert r.status_code == 409 and r.json()["code"] == "EMPLOYER_IN_ARREARS"
    assert r.json()["details"]["months"] == [202601, 202602]
    with transaction(city.url) as s:
        assert s.scalar(select(func.count()).select_from(Command)
                        .where(Command.status == "pending")) == 0


def test_deferral_after_two_approvals_clears_arrears(city):
    unit = city.login("unit", "unit01")
    city.open_member(unit, 3, "赵敏", 500_000)
    info = city.call("q.unit_info", {}, unit).json()["result"]
    assert info["arrears_months"] == [202601, 202602]
    assert info["arrears_estimate_fen"] == 2 * 120_000  # 5000 × 12% = 600, both parts
    r = city.call("dep.defer", {"from_month": 202603, "until_month": 202601, "reason": "x"}, unit)
    assert r.status_code == 422 and r.json()["code"] == "INVALID_MONTH"
    r = city.call("dep.defer", {"from_month": 202601, "until_month": 202701, "reason": "x"}, unit)
    assert r.status_code == 422 and r.json()["code"] == "DEFER_TOO_LONG"
    r = city.call("dep.defer", {"from_month": 202601, "until_month": 202606,
                                "reason": "经营困难，经职代会通过"}, unit)
    assert r.status_code == 202 and r.json()["approvals_required"] == 2
    command_id = int(r.headers["X-Command-Id"])
    assert city.decide(command_id, "rev1").json()["status"] == "pending"
    # One approval is not enough: the months are still owed.
    assert city.call("q.unit_info", {}, unit).json()["result"]["arrears_months"] == [
        202601, 202602]
    assert city.decide(command_id, "rev2").json()["status"] == "succeeded"
    info = city.call("q.unit_info", {}, unit).json()["result"]
    assert info["status"] == "03"
    assert info["deferred"] == [202601, 202606]
    assert (info["arrears_months"], info["arrears_estimate_fen"]) == ([], 0)
