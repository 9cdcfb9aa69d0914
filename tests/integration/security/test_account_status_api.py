"""POST /api/v1/mgmt/users/{id}/status: administrators only, with a reason, state-checked."""

from deposits.conftest import PASSWORD
from sqlalchemy import select

from hpf.identity import service as identity
from hpf.identity.models import UserAccount
from hpf.kit.db import transaction


def test_account_status_by_api(city):
    with transaction(city.url) as s:
        identity.create_staff(s, "adm", "管理员", PASSWORD, {"admin"})
        uid = s.scalar(select(UserAccount.id).where(UserAccount.login_name == "unit01"))
    url = f"/api/v1/mgmt/users/{uid}/status"
    headers = {**city.staff("adm"), "X-HPF-Channel": "counter"}
    r = city.client.post(url, json={"action": "disable", "reason": "x"}, headers=headers)
    assert r.status_code == 422
    r = city.client.post(url, json={"action": "delete", "reason": "离职"}, headers=headers)
    assert r.status_code == 422
    r = city.client.post(url, json={"action": "disable", "reason": "离职"},
                         headers={**city.staff("clerk"), "X-HPF-Channel": "counter"})
    assert r.status_code == 403 and r.json()["code"] == "ROLE_REQUIRED"
    r = city.client.post(url, json={"action": "disable", "reason": "离职"}, headers=headers)
    assert r.status_code == 200 and r.json()["status"] == "disabled", r.text
    r = city.client.post("/api/v1/auth/login", json={"kind": "unit", "login_name": "unit01",
                                                     "password": PASSWORD})
    assert r.status_code == 403 and r.json()["code"] == "ACCOUNT_DISABLED"
    r = city.client.post(url, json={"action": "disable", "reason": "离职"}, headers=headers)
    assert r.status_code == 409 and r.json()["code"] == "ACCOUNT_STATE"
    r = city.client.post(url, json={"action": "enable", "reason": "复职"}, headers=headers)
    assert r.json()["status"] == "active"
    assert city.login("unit", "unit01")
