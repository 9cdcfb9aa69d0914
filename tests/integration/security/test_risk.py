"""Risk rules: money out soon after a phone change is held for review; a login after many
failures raises an alert and tells the person; many applications from one address alert."""

from datetime import date

from deposits.test_transfers_remote import _fund_in_january
from sqlalchemy import select

from hpf.catalog import params
from hpf.kit.db import transaction
from hpf.notices.models import OutboxMessage
from hpf.risk import service as risk
from hpf.risk.models import RiskAlert

OUT = {"to_centre": "上海市住房公积金管理中心", "to_account_no": "SH0001", "letter_no": "SHLX-R1"}


def _member(city, n, phone):
    unit = city.login("unit", "unit01")
    member_no = city.open_member(unit, n, f"风险{n}", 400_000, phone=phone)
    return member_no, city.member_login(member_no)


def test_money_out_within_24h_of_a_phone_change_waits_for_a_reviewer(city):
    member_no, _ = _fund_in_january(city)  # a member with money and a phone on record
    me = city.member_login(member_no)
    with transaction(city.url) as s:
        from hpf.deposits.models import Member

        m = s.scalars(select(Member).where(Member.member_no == member_no)).one()
        risk.signal(s, "phone_changed", member_id=m.id, channel="hall",
                    notify=("13800000003",))
    r = city.call("dep.transfer_remote_out", OUT, city.sms_code(me, "dep.transfer_remote_out"))
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["message"] == "申请已受理，因账户安全原因须人工复核后办理"
    assert "更换过手机号码" in body["risk"][0]
    queue = city.client.get("/api/v1/approvals", headers=city.staff("rev1")).json()["items"]
    held = next(i for i in queue if i["command_id"] == int(r.headers["X-Command-Id"]))
    assert "更换过手机号码" in held["risk"][0]
    # An open hold alert cannot be waved through from the alert list: decide the application.
    alerts = city.client.get("/api/v1/mgmt/risk-alerts", headers=city.staff("rev1")).json()
    (alert,) = [a for a in alerts["items"] if a["rule"] == "phone_change_money_out"]
    r2 = city.client.post(f"/api/v1/mgmt/risk-alerts/{alert['id']}",
                          json={"confirm": False, "note": "本人来电确认"},
                          headers=city.staff("rev1"))
    assert r2.status_code == 409 and r2.json()["code"] == "ALERT_HOLDS_APPLICATION"
    r3 = city.decide(int(r.headers["X-Command-Id"]), "rev1", approve=False, reason="疑似盗用")
    assert r3.json()["status"] == "rejected"
    with transaction(city.url) as s:
        assert s.scalar(select(RiskAlert.status).where(RiskAlert.id == alert["id"])) == \
            "confirmed"
        # The old phone heard of the change (账户变动通知).
        assert any("预留手机号码已变更" in c for c in s.scalars(select(OutboxMessage.content)))
    city.ledger_ok()


def test_login_after_failures_alerts_and_notifies(city, monkeypatch):
    member_no, _ = _member(city, 42, "13800000042")
    with transaction(city.url) as s:
        params.set_value(s, "auth.captcha_after_failures", date(2000, 1, 2), 10)
        from hpf.deposits.models import Member

        id_number = s.scalars(select(Member.id_number).where(
            Member.member_no == member_no)).one()
    for i in range(3):
        r = city.client.post("/api/v1/auth/login", json={"kind": "member",
                                                         "login_name": id_number,
                                                         "password": f"bad{i}"})
        assert r.json()["code"] == "BAD_CREDENTIALS"
    city.login("member", id_number)
    alerts = city.client.get("/api/v1/mgmt/risk-alerts", headers=city.staff("rev1")).json()
    (alert,) = [a for a in alerts["items"] if a["rule"] == "failed_logins_then_success"]
    assert alert["severity"] == "alert" and alert["message"] == "连续3次登录失败后登录成功"
    with transaction(city.url) as s:
        assert any("多次密码错误后登录成功" in c for c in s.scalars(select(OutboxMessage.content)))
    # Staff close it with a note; a second close, a missing note and a clerk are refused.
    url = f"/api/v1/mgmt/risk-alerts/{alert['id']}"
    r = city.client.post(url, json={"confirm": False, "note": ""}, headers=city.staff("rev1"))
    assert r.status_code == 422
    r = city.client.post(url, json={"confirm": False, "note": "本人"}, headers=city.staff("clerk"))
    assert r.status_code == 403
    r = city.client.post(url, json={"confirm": False, "note": "本人忘记密码"},
                         headers=city.staff("rev1"))
    assert r.status_code == 200 and r.json()["status"] == "cleared"
    r = city.client.post(url, json={"confirm": True, "note": "再看"}, headers=city.staff("rev1"))
    assert r.status_code == 409 and r.json()["code"] == "ALERT_CLOSED"


def test_many_applications_from_one_address_alert_once_an_hour(city):
    with transaction(city.url) as s:
        params.set_value(s, "risk.applications_per_ip_hour", date(2000, 1, 2), 3)
    unit = city.login("unit", "unit01")
    for _ in range(6):
        assert city.call("q.unit_info", {}, unit).status_code == 200
    with transaction(city.url) as s:
        rows = s.scalars(select(RiskAlert).where(RiskAlert.rule == "busy_address")).all()
        assert len(rows) == 1 and rows[0].severity == "alert" and rows[0].subject
        assert "testclient" not in rows[0].subject  # the address is kept as a keyed hash
