"""Each staff role calls only its own services (the gateway checks the role per catalogue
area; administrators hold every role)."""

from deposits.conftest import PASSWORD

from hpf.identity import service as identity
from hpf.kit.db import transaction


def test_roles_decide_which_services_staff_may_call(city):
    with transaction(city.url) as s:
        identity.create_staff(s, "aud", "审计", PASSWORD, {"auditor"})
        identity.create_staff(s, "pub", "发布", PASSWORD, {"publisher"})
        identity.create_staff(s, "adm", "管理员", PASSWORD, {"admin"})
    unit = city.login("unit", "unit01")
    member_no = city.open_member(unit, 61, "岗位测", 400_000)
    query = ("q.member_account", {"member_no": member_no})
    business = ("dep.seal", {"member_no": member_no, "reason": "岗位测试"})
    expected = {
        "clerk": (200, 200), "rev1": (200, 403), "aud": (200, 403),
        "ops": (403, 403), "pub": (403, 403), "adm": (200, None),
    }
    for login, (q_status, b_status) in expected.items():
        headers = city.staff(login)
        r = city.call(*query, headers, channel="counter")
        assert r.status_code == q_status, (login, r.text)
        if q_status == 403:
            assert r.json()["code"] == "ROLE_REQUIRED" and r.json()["message"]
        if b_status is None:
            continue
        r = city.call(*business, headers, channel="counter")
        assert r.status_code == b_status, (login, r.text)
        if b_status == 403:
            assert r.json()["code"] == "ROLE_REQUIRED"
            assert r.json()["details"]["role"] == "clerk"
    # The administrator may do the clerk's work too (the seal is done: unseal it).
    r = city.call("dep.unseal", {"member_no": member_no}, city.staff("adm"), channel="counter")
    assert r.status_code == 200, r.text
