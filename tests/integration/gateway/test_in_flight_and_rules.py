"""One application in flight per business, under concurrency; and the channel error rule."""

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from deposits.test_concurrency import _together
from sqlalchemy import func, select

from hpf.audit import service as audit
from hpf.catalog.models import ChannelEvent
from hpf.gateway import registry
from hpf.gateway.models import Command
from hpf.kit import clock
from hpf.kit.db import transaction

from .test_channel_controls import _apply

LOCAL = clock.LOCAL_TZ


def test_twenty_concurrent_identical_applications_one_is_accepted(city):
    unit = city.login("unit", "unit01")
    a = city.open_member(unit, 10, "卢青怡", 586_600)
    body = {"member_nos": [a], "months": [202511], "reason": "2025年11月漏缴"}
    headers = {**unit, "X-HPF-Channel": "hall"}  # no idempotency key: twenty applications

    answers = _together(city, 20, lambda client, _i: client.post(
        "/api/v1/services/dep.supplement", json=body, headers=headers))
    codes = sorted((r.status_code, r.json().get("code") or r.json()["status"]) for r in answers)
    assert codes == [(202, "pending")] + [(409, "IN_FLIGHT_CONFLICT")] * 19, codes
    accepted = next(r for r in answers if r.status_code == 202)
    refused = next(r for r in answers if r.status_code == 409).json()
    assert refused["message"] == "您有一笔同类业务正在办理中，请待其办结后再申请"
    with transaction(city.url) as s:
        rows = s.execute(select(Command.status, func.count()).where(
            Command.service_code == "dep.supplement").group_by(Command.status)).all()
        assert dict(rows) == {"pending": 1, "failed": 19}
    # Once decided, the business is free again.
    rejected = city.decide(int(accepted.headers["X-Command-Id"]), "rev1", approve=False,
                           reason="月份有误")
    assert rejected.json()["status"] == "rejected"
    r = city.call("dep.supplement", {**body, "months": [202512]}, unit)
    assert r.status_code == 202, r.text
    city.ledger_ok()


def test_error_rate_closes_a_channel_and_the_cooldown_reopens_it(city, monkeypatch):
    start = datetime(2026, 3, 16, 10, 0, tzinfo=LOCAL)
    with clock.frozen(start):
        _apply(city, "mgmt.channel_settings", {"channel": "kiosk", "auto_close": True,
                                               "error_rate_bps": 5000, "error_window_min": 5,
                                               "error_min_calls": 4, "cooldown_min": 10})
        unit = city.login("unit", "unit01")
        for _ in range(2):
            assert city.call("q.unit_info", {}, unit, channel="kiosk").status_code == 200
        handler = registry.get("q.unit_info")

        def broken(ctx, params):
            raise RuntimeError("database on fire")

        monkeypatch.setitem(registry._handlers, "q.unit_info", replace(handler, execute=broken))
        for _ in range(2):  # 2 system errors in 4 calls: 50 %, the threshold
            with pytest.raises(RuntimeError):
                city.call("q.unit_info", {}, unit, channel="kiosk")
        monkeypatch.setitem(registry._handlers, "q.unit_info", handler)
        r = city.call("q.unit_info", {}, unit, channel="kiosk")
        assert r.status_code == 403 and r.json()["code"] == "CHANNEL_CLOSED", r.text
        assert "4笔调用中2笔系统错误" in r.json()["message"]
        assert city.call("q.unit_info", {}, unit, channel="hall").status_code == 200
    with clock.frozen(start + timedelta(minutes=9)):
        unit = city.login("unit", "unit01")
        r = city.call("q.unit_info", {}, unit, channel="kiosk")
        assert r.status_code == 403 and r.json()["code"] == "CHANNEL_CLOSED"
    with clock.frozen(start + timedelta(minutes=10)):
        unit = city.login("unit", "unit01")
        assert city.call("q.unit_info", {}, unit, channel="kiosk").status_code == 200
    with transaction(city.url) as s:
        events = s.execute(select(ChannelEvent.action, ChannelEvent.by_kind, ChannelEvent.by_name)
                           .where(ChannelEvent.channel == "kiosk").order_by(ChannelEvent.id)).all()
        assert [tuple(e) for e in events] == [("close", "rule", "错误率规则"),
                                              ("open", "rule", "自动恢复规则")]
        assert audit.verify(s).ok
