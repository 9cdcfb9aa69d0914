"""Logins, service calls (done and refused) and approvals land in the audit chain."""

import json

from sqlalchemy import func, select

from hpf.audit import service as audit
from hpf.audit.models import AuditRecord
from hpf.kit.db import transaction


def test_logins_calls_refusals_and_approvals_are_audited(city):
    with transaction(city.url) as s:
        start = s.scalar(select(func.max(AuditRecord.seq))) or 0
    bad = city.client.post("/api/v1/auth/login", json={
        "kind": "unit", "login_name": "unit01", "password": "wrong-password"})
    assert bad.status_code == 401
    unit = city.login("unit", "unit01")
    assert city.call("q.unit_info", {}, unit).status_code == 200
    refused = city.call("dep.remit", {"action": "status", "period": 203001}, unit)
    assert refused.status_code == 409, refused.text
    change = city.call("dep.unit_change", {"address": "西山区滇池路99号"}, unit)
    assert city.approve(change, "rev1")["status"] == "succeeded"
    with transaction(city.url) as s:
        rows = s.scalars(select(AuditRecord).where(AuditRecord.seq > start)
                         .order_by(AuditRecord.seq)).all()
        assert audit.verify(s).ok
    trail = [(r.event, r.outcome, r.actor_kind, r.target) for r in rows]
    assert trail == [
        ("login", "failure", "unit", None),
        ("login", "success", "unit", None),
        ("service.call", "succeeded", "unit", "q.unit_info"),
        ("service.call", "failed", "unit", "dep.remit"),
        ("service.call", "pending", "unit", "dep.unit_change"),
        ("login", "success", "staff", None),
        ("approval", "approve", "staff", "dep.unit_change"),
    ]
    assert json.loads(rows[0].detail) == {"reason": "BAD_CREDENTIALS"}
    assert rows[0].actor_name == "unit01"
    assert json.loads(rows[3].detail) == {"code": "LIST_NOT_FOUND"}
    assert json.loads(rows[6].detail) == {"application": "succeeded", "reason": None}


def test_logout_is_audited_under_the_user_who_left(city):
    unit = city.login("unit", "unit01")
    assert city.client.post("/api/v1/auth/logout", headers=unit).status_code == 200
    with transaction(city.url) as s:
        last = s.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1)).one()
        assert (last.event, last.outcome, last.actor_kind, last.actor_name) == (
            "logout", "success", "unit", "unit01")
        assert audit.verify(s).ok
