"""用户管理: an administrator unlocks, disables and enables accounts from the console, with a
reason in the audit chain; nobody else can, and nothing is half-applied."""

from datetime import date

from sqlalchemy import select

from hpf.audit.models import AuditRecord
from hpf.catalog import params
from hpf.identity.models import AuthSession, UserAccount
from hpf.kit.db import transaction


def _user(console, login):
    with transaction(console.url) as s:
        return s.scalars(select(UserAccount).where(UserAccount.login_name == login)).one()


def test_administrator_unlocks_and_disables_an_operator(console):
    city = console.city
    with transaction(console.url) as s:  # lock it by passwords alone (no captcha on the way)
        params.set_value(s, "auth.captcha_after_failures", date(2000, 1, 2), 20)
    for i in range(5):
        city.client.post("/api/v1/auth/login", json={"kind": "unit", "login_name": "unit01",
                                                     "password": f"wrong{i}"})
    assert _user(console, "unit01").status == "locked"
    boss = console.desk("boss")
    page = boss.get("/users", q="unit01")
    assert "解锁" in page.text
    uid = _user(console, "unit01").id
    # No reason, a bad action, no CSRF token: refused, nothing changes.
    assert boss.post(f"/users/{uid}/status", {"action": "unlock", "reason": ""}).status_code == 422
    assert boss.post(f"/users/{uid}/status", {"action": "explode", "reason": "测试"}).status_code \
        == 422
    assert boss.post(f"/users/{uid}/status", {"action": "unlock", "reason": "本人来电"},
                     csrf=None).status_code == 403
    assert _user(console, "unit01").status == "locked"
    r = boss.post(f"/users/{uid}/status", {"action": "unlock", "reason": "本人来电核实"})
    assert r.status_code == 303, r.text
    assert _user(console, "unit01").status == "active"
    unit = city.login("unit", "unit01")  # works again
    # Disabling ends the operator's sessions on every channel.
    r = boss.post(f"/users/{uid}/status", {"action": "disable", "reason": "离职"})
    assert r.status_code == 303
    r = city.call("q.unit_info", {}, unit)
    assert r.status_code == 401 and r.json()["code"] == "LOGIN_REQUIRED", r.text
    with transaction(console.url) as s:
        assert s.scalars(select(AuthSession.revoked_at).where(
            AuthSession.user_id == uid)).all() and all(s.scalars(select(
                AuthSession.revoked_at).where(AuthSession.user_id == uid)))
        events = s.scalars(select(AuditRecord.event).where(
            AuditRecord.event.like("account.%")).order_by(AuditRecord.seq)).all()
        assert events == ["account.unlock", "account.disable"]
    # Unlocking an active account is refused; enabling brings it back.
    r = boss.post(f"/users/{uid}/status", {"action": "unlock", "reason": "测试"})
    assert r.status_code == 409
    assert boss.post(f"/users/{uid}/status", {"action": "enable", "reason": "复职"}).status_code \
        == 303


def test_only_administrators_manage_accounts(console):
    uid = _user(console, "unit01").id
    auditor = console.desk("audit1")
    assert "停用" not in auditor.get("/users").text
    r = auditor.post(f"/users/{uid}/status", {"action": "disable", "reason": "越权"})
    assert r.status_code == 403
    boss = console.desk("boss")
    own = _user(console, "boss").id
    r = boss.post(f"/users/{own}/status", {"action": "disable", "reason": "自己"})
    assert r.status_code == 403
    assert boss.post("/users/999999/status", {"action": "disable", "reason": "无此人"}).status_code \
        == 404
    assert _user(console, "unit01").status == "active"
