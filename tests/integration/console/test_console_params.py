"""参数: a new dated value is a management change; its range is checked in Chinese first."""

import re
from datetime import timedelta

from sqlalchemy import func, select

from hpf.catalog import params
from hpf.gateway.models import Command
from hpf.kit import clock
from hpf.kit.db import transaction


def test_a_parameter_change_is_checked_submitted_and_approved(console):
    tomorrow = str(clock.today() + timedelta(days=1))
    clerk = console.desk("clerk")
    page = clerk.get("/params")
    assert page.status_code == 200 and "auth.max_failures" in page.text
    assert 'id="param-form"' not in page.text
    assert clerk.post("/params", {"key": "auth.max_failures", "value": "6",
                                  "effective_from": tomorrow, "reason": "试试"}).status_code == 403

    boss = console.desk("boss")
    change = {"key": "auth.max_failures", "effective_from": tomorrow, "reason": "安全加固"}
    r = boss.post("/params", {**change, "value": "99"})
    assert r.status_code == 422 and "该参数的取值范围为 3 至 20" in r.text
    r = boss.post("/params", {**change, "value": "六"})
    assert r.status_code == 422 and "该参数须为整数" in r.text
    r = boss.post("/params", {**change, "value": "6", "effective_from": "2000-01-01"})
    assert r.status_code == 422 and "生效日期不能早于今天" in r.text
    r = boss.post("/params", {**change, "value": "6", "key": "no.such"})
    assert r.status_code == 422 and "没有这个参数" in r.text
    with transaction(console.url) as s:
        assert s.scalar(select(func.count()).select_from(Command)) == 0

    r = boss.post("/params", {**change, "value": "6"})
    assert r.status_code == 303, r.text
    approver = console.desk("rev2")
    queue = approver.get("/approvals").text
    command_id = int(re.search(r'id="approval-(\d+)"', queue).group(1))
    r = approver.post(f"/approvals/{command_id}", {"decision": "approve"},
                      headers={"HX-Request": "true"})
    assert "已批准并生效" in r.text, r.text
    with transaction(console.url) as s:
        assert (clock.today() + timedelta(days=1), 6) in params.history(s, "auth.max_failures")
