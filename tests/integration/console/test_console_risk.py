"""风险预警: alerts listed for reviewers and auditors, confirmed or cleared in place; a hold
shows on its application in the approval queue."""

import re

from hpf.kit import clock
from hpf.kit.db import transaction
from hpf.risk.models import RiskAlert

HTMX = {"HX-Request": "true"}


def _alert(url: str, **fields) -> int:
    with transaction(url) as s:
        values = {"rule": "failed_logins_then_success", "severity": "alert", "status": "open",
                  "message": "多次登录失败后登录成功", "created_at": clock.now(), **fields}
        alert = RiskAlert(**values)
        s.add(alert)
        s.flush()
        return alert.id


def test_alerts_are_reviewed_in_place_and_holds_show_in_the_queue(console):
    ops = console.desk("ops")
    assert ops.post("/channels/kiosk/state", {"open": "0", "reason": "升级"}).status_code == 303
    rev1 = console.desk("rev1")
    command_id = int(re.search(r'id="approval-(\d+)"', rev1.get("/approvals").text).group(1))
    plain = _alert(console.url)
    _alert(console.url, severity="hold", command_id=command_id,
           rule="phone_change_money_out", message="更换手机号后短期内申请资金转出")
    assert "风险：更换手机号后短期内申请资金转出" in rev1.get("/approvals").text

    auditor = console.desk("audit1")
    page = auditor.get("/risk")
    assert page.status_code == 200 and f'id="alert-{plain}"' in page.text
    assert "确认风险" not in page.text
    r = auditor.post(f"/risk/{plain}", {"decision": "confirm", "note": "核实"}, headers=HTMX)
    assert r.status_code == 403 and "无风险复核权限" in r.text
    assert console.desk("clerk").get("/risk").status_code == 403

    page = rev1.get("/risk").text
    assert "请在「审批」中处理" in page and "确认风险" in page
    r = rev1.post(f"/risk/{plain}", {"decision": "clear", "note": ""}, headers=HTMX)
    assert r.status_code == 422 and "请填写复核意见" in r.text
    r = rev1.post(f"/risk/{plain}", {"decision": "confirm", "note": "电话核实为本人"},
                  headers=HTMX)
    assert r.status_code == 200 and r.text.startswith(f'<tr id="alert-{plain}"')
    assert "已确认" in r.text and "电话核实为本人" in r.text
    assert f'id="alert-{plain}"' not in rev1.get("/risk").text  # open ones only by default
    assert f'id="alert-{plain}"' in rev1.get("/risk", status="confirmed").text
    assert rev1.get("/risk", status="maybe").status_code == 422
    assert rev1.get("/risk", before="0").status_code == 422
