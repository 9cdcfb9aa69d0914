"""证书 page: auditors list operator certificates, administrators revoke them."""

from hpf.gateway.principal import SYSTEM
from hpf.identity import certificates
from hpf.kit.db import transaction


def test_list_and_revoke_an_operator_certificate(console):
    with transaction(console.url) as s:
        serial = certificates.issue_certificate(s, SYSTEM, "unit", "unit01").record.serial
    auditor = console.desk("audit1")
    page = auditor.get("/certificates")
    assert page.status_code == 200 and f'id="cert-{serial}"' in page.text and "有效" in page.text
    assert "注销原因" not in page.text  # only administrators revoke
    assert auditor.post(f"/certificates/{serial}/revoke", {"reason": "离职"}).status_code == 403
    assert console.desk("clerk").get("/certificates").status_code == 403

    boss = console.desk("boss")
    r = boss.post(f"/certificates/{serial}/revoke", {"reason": " "})
    assert r.status_code == 422 and "请填写注销原因" in r.text
    r = boss.post(f"/certificates/{serial}/revoke", {"reason": "经办人离职"}, csrf=None)
    assert r.status_code == 403
    assert "有效" in auditor.get("/certificates", status="active").text
    r = boss.post(f"/certificates/{serial}/revoke", {"reason": "经办人离职"})
    assert r.status_code == 303
    page = boss.client.get(r.headers["location"]).text
    assert "已注销" in page and "经办人离职" in page
    assert f'id="cert-{serial}"' not in auditor.get("/certificates", status="active").text
    assert auditor.get("/certificates", page="0").status_code == 422
    assert auditor.get("/certificates", kind="member").status_code == 422
