"""Channel access under management: two people to change anything, and each refusal says why."""

from datetime import UTC, datetime, timedelta

from deposits.conftest import CARD, PASSWORD
from sqlalchemy import func, select

from hpf.audit import service as audit
from hpf.catalog.models import ChannelEvent, ChannelSetting, Deployment
from hpf.gateway.models import Command
from hpf.identity import service as identity
from hpf.kit import clock
from hpf.kit.db import session_factory, transaction
from support import staff

LOCAL = clock.LOCAL_TZ


def _change(city, code, params, maker="ops"):
    return city.client.post(f"/api/v1/mgmt/changes/{code}", json=params,
                            headers={**city.staff(maker), "X-HPF-Channel": "counter"})


def _apply(city, code, params):
    """Make a change as the channel operator and approve it as the approver."""
    r = _change(city, code, params)
    assert r.status_code == 202, r.text
    body = city.decide(r.json()["command_id"], "rev2").json()
    assert body["status"] == "succeeded", body
    return body


def _refused(r, status, code):
    assert r.status_code == status and r.json()["code"] == code, r.text
    return r.json()


def test_closing_a_channel_takes_two_people_and_is_recorded(city):
    unit = city.login("unit", "unit01")
    assert city.call("q.unit_info", {}, unit, channel="kiosk").status_code == 200
    r = _change(city, "mgmt.channel_state", {"channel": "kiosk", "open": False,
                                             "reason": "客户端升级"})
    assert r.status_code == 202 and r.json()["status"] == "pending", r.text
    command_id = r.json()["command_id"]
    # Nothing changes until it is approved, by someone else, who holds the approver role.
    assert city.call("q.unit_info", {}, unit, channel="kiosk").status_code == 200
    _refused(city.decide(command_id, "ops"), 403, "NOT_A_REVIEWER")
    _refused(city.decide(command_id, "rev1"), 403, "ROLE_REQUIRED")
    # A second change of the same channel waits for the first.
    _refused(_change(city, "mgmt.channel_state", {"channel": "kiosk", "open": True,
                                                  "reason": "撤回"}), 409, "IN_FLIGHT_CONFLICT")
    assert city.decide(command_id, "rev2").json()["status"] == "succeeded"

    body = _refused(city.call("q.unit_info", {}, unit, channel="kiosk"), 403, "CHANNEL_CLOSED")
    assert body["message"] == "自助终端暂停服务：客户端升级"
    assert city.call("q.unit_info", {}, unit, channel="hall").status_code == 200
    _apply(city, "mgmt.channel_state", {"channel": "kiosk", "open": True, "reason": "升级完成"})
    assert city.call("q.unit_info", {}, unit, channel="kiosk").status_code == 200

    # An administrator holds every role but still cannot approve their own change.
    with transaction(city.url) as s:
        identity.create_staff(s, "boss", "管理员", PASSWORD, {"admin"})
    r = _change(city, "mgmt.channel_settings", {"channel": "kiosk", "tx_per_s": 50},
                maker="boss")
    _refused(city.decide(r.json()["command_id"], "boss"), 403, "MAKER_CANNOT_CHECK")
    assert city.decide(r.json()["command_id"], "rev2").json()["status"] == "succeeded"

    events = city.client.get("/api/v1/mgmt/channel-events", params={"channel": "kiosk"},
                             headers=city.staff("ops")).json()["items"]
    assert [(e["action"], e["by_kind"], e["by_name"], e["reason"]) for e in events] == [
        ("open", "staff", "渠道运营", "升级完成"), ("close", "staff", "渠道运营", "客户端升级")]
    with transaction(city.url) as s:
        assert audit.verify(s).ok
        events = s.scalars(select(ChannelEvent.command_id)).all()
        assert all(s.get(Command, c).status == "succeeded" for c in events)


def test_service_offer_hours_and_maintenance(city):
    unit = city.login("unit", "unit01")
    # Withdrawn from the web hall: the refusal names the service and the channel.
    _apply(city, "mgmt.deployment", {"service": "q.unit_info", "channel": "hall",
                                     "enabled": False})
    body = _refused(city.call("q.unit_info", {}, unit), 403, "SERVICE_NOT_ON_CHANNEL")
    assert body["message"] == "「单位基本信息查询」不在网上业务大厅提供"
    overview = city.client.get("/api/v1/mgmt/deployments/q.unit_info",
                               headers=city.staff("ops")).json()["channels"]
    hall = next(c for c in overview if c["channel"] == "hall")
    assert (hall["source"], hall["enabled"]) == ("set", False)

    # Office hours on working days, on the app only.
    _apply(city, "mgmt.deployment", {"service": "q.unit_info", "channel": "kiosk",
                                     "enabled": True, "days": "workdays",
                                     "opens": "09:00", "closes": "17:00"})
    monday_10 = datetime(2026, 3, 16, 10, 0, tzinfo=LOCAL)
    for moment, ok in [(monday_10, True), (monday_10.replace(hour=8, minute=59), False),
                       (monday_10.replace(hour=17), False),
                       (datetime(2026, 3, 14, 10, 0, tzinfo=LOCAL), False)]:  # a Saturday
        with clock.frozen(moment):
            unit = city.login("unit", "unit01")
            r = city.call("q.unit_info", {}, unit, channel="kiosk")
            if ok:
                assert r.status_code == 200, (moment, r.text)
            else:
                body = _refused(r, 403, "OUTSIDE_SERVICE_HOURS")
                assert body["details"] == {"hours": "工作日 09:00-17:00"}

    # A maintenance window on the counter, for every service, from now for an hour.
    now = clock.now()
    _apply(city, "mgmt.maintenance", {"channel": "counter", "starts_at": now.isoformat(),
                                      "ends_at": (now + timedelta(hours=1)).isoformat(),
                                      "reason": "数据库升级"})
    clerk = city.staff("clerk")
    body = _refused(city.call("q.unit_info", {"unit_no": city.unit_no}, clerk,
                              channel="counter"), 403, "UNDER_MAINTENANCE")
    assert "数据库升级" in body["message"]
    with clock.frozen(now + timedelta(hours=1, minutes=1)):
        clerk = city.login("staff", "clerk")
        r = city.call("q.unit_info", {"unit_no": city.unit_no}, clerk, channel="counter")
        assert r.status_code == 200, r.text


def test_bad_management_input_is_refused_and_writes_nothing(city):
    def count():
        with transaction(city.url) as s:
            return s.scalar(select(func.count()).select_from(Command).where(
                Command.service_code.like("mgmt.%")))

    before = count()
    cases = [
        ("mgmt.channel_settings", {"channel": "app", "tx_per_s": 0}, 422, "INVALID_PARAMS"),
        ("mgmt.channel_settings", {"channel": "app", "error_rate_bps": 10_001}, 422,
         "INVALID_PARAMS"),
        ("mgmt.channel_settings", {"channel": "app", "tx_per_s": 10, "tx_per_min": 5}, 422,
         "INVALID_PARAMS"),
        ("mgmt.channel_settings", {"channel": "fax"}, 422, "INVALID_PARAMS"),
        ("mgmt.channel_settings", {"channel": "app", "days": "weekends"}, 422,
         "INVALID_PARAMS"),
        ("mgmt.channel_settings", {"channel": "app", "opens": "09:00"}, 422, "INVALID_PARAMS"),
        ("mgmt.deployment", {"service": "no.such", "channel": "app", "enabled": True}, 422,
         "INVALID_PARAMS"),
        ("mgmt.deployment", {"service": "dep.freeze", "channel": "counter", "enabled": True,
                             "min_fen": 500, "max_fen": 100}, 422, "INVALID_PARAMS"),
        ("mgmt.deployment", {"service": "dep.freeze", "channel": "counter", "enabled": True,
                             "max_fen": -1}, 422, "INVALID_PARAMS"),
        ("mgmt.deployment", {"service": "dep.freeze", "channel": "counter", "enabled": True,
                             "unknown": 1}, 422, "INVALID_PARAMS"),
        ("mgmt.maintenance", {"starts_at": "2026-03-16T22:00:00", "ends_at":
                              "2026-03-16T23:00:00", "reason": "无时区"}, 422, "INVALID_PARAMS"),
        ("mgmt.maintenance", {"starts_at": "2026-03-16T22:00:00+08:00", "ends_at":
                              "2026-03-30T23:00:00+08:00", "reason": "太长"}, 422,
         "INVALID_PARAMS"),
        ("mgmt.nothing", {}, 404, "UNKNOWN_CHANGE"),
    ]
    for code, params, status, error in cases:
        _refused(_change(city, code, params), status, error)
    # Only channel operators make changes; members and employers cannot reach them at all.
    _refused(_change(city, "mgmt.channel_state", {"channel": "app", "open": False,
                                                  "reason": "试一下"}, maker="clerk"),
             403, "ROLE_REQUIRED")
    unit = city.login("unit", "unit01")
    r = city.client.post("/api/v1/mgmt/changes/mgmt.channel_state",
                         json={"channel": "app", "open": False, "reason": "试一下"}, headers=unit)
    _refused(r, 403, "STAFF_ONLY")
    assert count() == before
    with transaction(city.url) as s:
        assert s.scalar(select(func.count()).select_from(ChannelSetting)) == 0
        assert s.scalar(select(func.count()).select_from(Deployment)) == 0


def test_per_user_limits_warn_with_the_limit(city):
    with clock.frozen(datetime(2026, 3, 16, 10, 0, tzinfo=LOCAL)):
        unit = city.login("unit", "unit01")
        a = city.open_member(unit, 2, "王伟", 500_000)
        b = city.open_member(unit, 3, "赵敏", 500_000)
        for action in ("generate", "confirm"):  # January's deposit: 1 200 yuan each
            assert city.call("dep.remit", {"action": action, "period": 202601},
                             unit).status_code == 200
        r = city.call("dep.remit", {"action": "pay", "period": 202601, "method": "debit",
                                    "account_no": CARD}, unit)
        assert r.json()["result"]["status"] == "credited", r.text
        _apply(city, "mgmt.deployment", {"service": "dep.freeze", "channel": "counter",
                                         "enabled": True, "min_fen": 1_000, "max_fen": 100_000,
                                         "daily_max_fen": 150_000})
        clerk = city.staff("clerk")

        def freeze(member_no, doc, amount):
            body = {"member_no": member_no, "authority": "五华区人民法院", "document_no": doc}
            if amount is not None:
                body["amount_fen"] = amount
            return city.call("dep.freeze", body, clerk, channel="counter")

        body = _refused(freeze(a, "(2026)执1号", 100_001), 422, "LIMIT_EXCEEDED")
        assert body["message"] == "限额提示：单笔金额不得超过1000.00元"
        assert body["details"] == {"limit": "single_max", "limit_fen": 100_000}
        body = _refused(freeze(a, "(2026)执2号", 999), 422, "LIMIT_EXCEEDED")
        assert body["details"] == {"limit": "single_min", "limit_fen": 1_000}
        assert freeze(a, "(2026)执3号", 100_000).status_code == 200
        body = _refused(freeze(b, "(2026)执4号", 60_000), 422, "LIMIT_EXCEEDED")
        assert body["details"] == {"limit": "daily_max", "limit_fen": 150_000,
                                   "used_fen": 100_000}
        assert "今日已申请1000.00元" in body["message"]
        assert freeze(b, "(2026)执5号", 50_000).status_code == 200
    # The next local day starts afresh (16:30 UTC on the 16th is 00:30 on the 17th, Beijing time).
    with clock.frozen(datetime(2026, 3, 16, 16, 30, tzinfo=UTC)):
        clerk = city.login("staff", "clerk")
        r = city.call("dep.freeze", {"member_no": b, "authority": "五华区人民法院",
                                     "document_no": "(2026)执6号", "amount_fen": 60_000},
                      clerk, channel="counter")
        assert r.status_code == 200, r.text
    city.ledger_ok()


def test_channel_hours_by_default_and_time_zone():
    """The pure rule, in local time: an overnight window belongs to the day it opens."""
    from hpf.catalog.hours import Hours, within

    night = Hours("workdays", datetime(2000, 1, 1, 22).time(), datetime(2000, 1, 1, 6).time())
    friday_23 = datetime(2026, 3, 20, 23, 0, tzinfo=LOCAL)
    assert within(night, friday_23, True, True)
    assert within(night, friday_23 + timedelta(hours=3), False, True)  # Saturday 02:00
    assert not within(night, datetime(2026, 3, 23, 2, 0, tzinfo=LOCAL), True, False)  # Monday
    assert not within(night, friday_23.replace(hour=12), True, True)
    assert Hours().describe() == "每天 全天"
    assert datetime(2026, 3, 16, 2, 0, tzinfo=UTC).astimezone(LOCAL).hour == 10


def test_a_closed_channel_refuses_every_request_but_management(city):
    unit = city.login("unit", "unit01")
    _apply(city, "mgmt.channel_state", {"channel": "kiosk", "open": False, "reason": "断网"})
    r = city.client.get("/api/v1/exports/unit-members.xlsx",
                        headers={**unit, "X-HPF-Channel": "kiosk"})
    _refused(r, 403, "CHANNEL_CLOSED")
    # Staff signing in on the closed channel can still reopen it.
    token = city.client.post("/api/v1/auth/login", headers={"X-HPF-Channel": "kiosk"},
                             json={"kind": "staff", "login_name": "ops", "password": PASSWORD,
                                   "otp": staff.totp_code(session_factory(city.url), "ops")}
                             ).json()["token"]
    r = city.client.post("/api/v1/mgmt/changes/mgmt.channel_state",
                         json={"channel": "kiosk", "open": True, "reason": "恢复"},
                         headers={"Authorization": f"Bearer {token}", "X-HPF-Channel": "kiosk"})
    assert r.status_code == 202, r.text
    assert city.decide(r.json()["command_id"], "rev2").json()["status"] == "succeeded"
    assert city.call("q.unit_info", {}, unit, channel="kiosk").status_code == 200
