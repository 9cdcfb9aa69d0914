"""Management through the console: CSRF, roles, maker-checker, ranges checked in Chinese."""

import re

from sqlalchemy import func, select

from hpf.catalog.models import ChannelSetting
from hpf.gateway.models import Command
from hpf.kit.db import transaction

HTMX = {"HX-Request": "true"}


def _commands(console) -> int:
    with transaction(console.url) as s:
        return s.scalar(select(func.count()).select_from(Command))


def _is_open(console, channel: str) -> bool:
    with transaction(console.url) as s:
        setting = s.get(ChannelSetting, channel)
        return setting is None or setting.is_open


def _command_id(page_text: str) -> int:
    return int(re.search(r'id="approval-(\d+)"', page_text).group(1))


def test_csrf_missing_wrong_or_foreign_origin_is_refused_and_writes_nothing(console):
    ops = console.desk("ops")
    close = {"open": "0", "reason": "升级维护"}
    for r in (ops.post("/channels/kiosk/state", close, csrf=None),
              ops.post("/channels/kiosk/state", close, csrf="0" * 64),
              ops.post("/channels/kiosk/state", close,
                       headers={"Origin": "https://evil.example"}),
              ops.post("/channels/kiosk/state", close,
                       headers={"Referer": "http://evil.example/console"})):
        assert r.status_code == 403 and "CSRF_FAILED" in r.text, r.text
        assert "请刷新页面后重试" in r.text
    assert _commands(console) == 0
    # Another session's token is no good either.
    other = console.desk("boss")
    assert ops.post("/channels/kiosk/state", close, csrf=other.csrf).status_code == 403
    assert _commands(console) == 0
    # The htmx header carries the token as well as the hidden field does.
    r = ops.post("/channels/kiosk/state", close, csrf=None,
                 headers={"X-CSRF-Token": ops.csrf, "Origin": "http://testserver"})
    assert r.status_code == 303, r.text
    assert _commands(console) == 1


def test_roles_are_checked_on_every_page_and_action(console):
    clerk = console.desk("clerk")
    r = clerk.get("/channels")
    assert r.status_code == 403 and "您没有使用此功能的权限" in r.text
    assert clerk.post("/channels/kiosk/state", {"open": "0", "reason": "试试"}).status_code == 403
    assert clerk.get("/audit").status_code == 403
    assert clerk.get("/approvals").status_code == 403
    assert clerk.get("/params").status_code == 200
    home = clerk.get("")
    assert ">渠道管理<" not in home.text and ">短信<" in home.text

    auditor = console.desk("audit1")
    assert auditor.get("/audit").status_code == 200
    page = auditor.get("/channels")
    assert page.status_code == 200 and "申请关闭" not in page.text
    r = auditor.post("/channels/kiosk/state", {"open": "0", "reason": "审计员不能提交"})
    assert r.status_code == 403
    r = auditor.post("/channels/kiosk/settings", {"tx_per_s": "5", "days": "all"})
    assert r.status_code == 403
    assert _commands(console) == 0


def test_a_change_made_by_one_operator_and_approved_by_another_takes_effect(console):
    ops, approver = console.desk("ops"), console.desk("rev2")
    r = ops.post("/channels/kiosk/state", {"open": "0", "reason": "客户端升级"})
    assert r.status_code == 303 and "submitted=YW" in r.headers["location"]
    page = ops.client.get(r.headers["location"])
    assert "须另一名审批员" in page.text
    assert _is_open(console, "kiosk")  # nothing happens before approval

    queue = approver.get("/approvals")
    assert "渠道启停" in queue.text and "客户端升级" in queue.text
    command_id = _command_id(queue.text)
    # The maker cannot approve (no reviewer role), nor can a reviewer approve a management change.
    assert ops.post(f"/approvals/{command_id}", {"decision": "approve"}).status_code == 403
    rev1 = console.desk("rev1")
    r = rev1.post(f"/approvals/{command_id}", {"decision": "approve"}, headers=HTMX)
    assert r.status_code == 403 and "管理变更须由审批员批准" in r.text
    assert _is_open(console, "kiosk")

    r = approver.post(f"/approvals/{command_id}", {"decision": "approve"}, headers=HTMX)
    assert r.status_code == 200 and r.text.startswith(f'<tr id="approval-{command_id}"')
    assert "已批准并生效" in r.text
    assert not _is_open(console, "kiosk")
    channels = approver.get("/channels").text
    row = channels[channels.index('id="channel-kiosk"'):]
    assert row.index("关闭") < row.index("</tr>") and "客户端升级" in row
    assert "queue-empty" in approver.get("/approvals").text

    # An administrator holds every role but cannot approve their own change.
    boss = console.desk("boss")
    r = boss.post("/channels/kiosk/state", {"open": "1", "reason": "升级完成"})
    assert r.status_code == 303
    command_id = _command_id(boss.get("/approvals").text)
    r = boss.post(f"/approvals/{command_id}", {"decision": "approve"}, headers=HTMX)
    assert r.status_code == 403 and "经办人不能审核自己受理的业务" in r.text
    r = approver.post(f"/approvals/{command_id}", {"decision": "reject"}, headers=HTMX)
    assert r.status_code == 422 and "驳回必须填写原因" in r.text
    r = approver.post(f"/approvals/{command_id}", {"decision": "reject", "reason": "时间不对"})
    assert r.status_code == 303 and "/console/approvals?submitted=YW" in r.headers["location"]
    assert not _is_open(console, "kiosk")


def test_values_out_of_range_are_shown_in_chinese_and_nothing_is_written(console):
    ops = console.desk("ops")
    r = ops.post("/channels/kiosk/settings", {"tx_per_s": "0", "visits_per_s": "2000000",
                                              "error_window_min": "abc", "days": "all"})
    assert r.status_code == 422
    assert "每秒交易阈值：不能小于1" in r.text and "每秒访问阈值：不能大于1000000" in r.text
    assert "统计时长（分钟）：须为整数" in r.text
    assert 'value="2000000"' in r.text  # the form keeps what was typed
    r = ops.post("/channels/kiosk/settings", {"tx_per_s": "10", "tx_per_min": "5",
                                              "days": "all"})
    assert r.status_code == 422 and "每分钟阈值不能小于每秒阈值" in r.text
    r = ops.post("/services/dep.remit/deployment", {
        "channel": "hall", "enabled": "on", "min_yuan": "500", "max_yuan": "100"})
    assert r.status_code == 422 and "单笔最低限额不能高于单笔最高限额" in r.text
    r = ops.post("/services/dep.remit/deployment", {
        "channel": "hall", "enabled": "on", "max_yuan": "1.234"})
    assert r.status_code == 422 and "金额格式有误" in r.text
    r = ops.post("/services/dep.remit/deployment", {"channel": "moon", "enabled": "on"})
    assert r.status_code == 422 and "渠道：取值无效" in r.text
    r = ops.post("/services/dep.remit/maintenance", {
        "starts_at": "2099-01-02T10:00", "ends_at": "2099-01-01T10:00", "reason": "升级"})
    assert r.status_code == 422 and "结束时间须晚于开始时间" in r.text
    r = ops.post("/channels/kiosk/state", {"open": "0", "reason": "x" * 501})
    assert r.status_code == 422 and "输入内容过长" in r.text
    r = ops.post("/channels/kiosk/state", {"open": "0", "reason": "x"})
    assert r.status_code == 422 and "原因：至少2个字符" in r.text
    assert _commands(console) == 0


def test_deployment_and_maintenance_forms_submit_changes(console):
    ops, approver = console.desk("ops"), console.desk("rev2")
    r = ops.post("/services/dep.remit/deployment", {
        "channel": "hall", "enabled": "on", "days": "workdays", "opens": "09:00",
        "closes": "17:00", "min_yuan": "1", "max_yuan": "50000", "daily_max_yuan": "100000"})
    assert r.status_code == 303, r.text
    r = ops.post("/services/dep.remit/maintenance", {
        "scope": "all", "channel": "hall", "starts_at": "2099-01-01T22:00",
        "ends_at": "2099-01-02T02:00", "reason": "年度升级"})
    assert r.status_code == 303, r.text
    queue = approver.get("/approvals").text
    for command_id in map(int, re.findall(r'id="approval-(\d+)"', queue)):
        r = approver.post(f"/approvals/{command_id}", {"decision": "approve"}, headers=HTMX)
        assert "已批准并生效" in r.text, r.text
    page = ops.get("/services/dep.remit").text
    row = page[page.index('id="deploy-hall"'):]
    row = row[:row.index("</tr>")]
    assert "工作日 09:00-17:00" in row and "50000.00" in row and "100000.00" in row
    assert "年度升级" in page and "2099-01-01 22:00" in page


def test_console_pages_carry_the_security_headers(console):
    ops = console.desk("ops")
    for r in (ops.get(""), ops.get("/channels"), console.browser().get("/console/login"),
              ops.get("/audit"), ops.get("/channels/nowhere")):
        assert r.headers["content-security-policy"].startswith("default-src 'self'")
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["cache-control"] == "no-store"
        assert "<script>" not in r.text and " style=" not in r.text and "<style" not in r.text
    assert ops.get("/channels/nowhere").status_code == 404
    static = ops.client.get("/static/htmx.min.js")
    assert static.status_code == 200 and static.text.startswith("/*! htmx.org 2.0.11")


def test_every_form_carries_the_session_csrf_token(console):
    boss = console.desk("boss")
    boss.post("/channels/kiosk/state", {"open": "0", "reason": "检查表单"})
    for path in ("", "/channels", "/channels/kiosk", "/services/dep.remit", "/approvals",
                 "/audit"):
        text = boss.get(path).text
        forms = text.count('<form method="post"')
        assert forms >= 1 and text.count(f'name="csrf_token" value="{boss.csrf}"') == forms, path
        assert f'hx-headers=\'{{"X-CSRF-Token": "{boss.csrf}"}}\'' in text


def test_forms_are_bounded(console):
    ops = console.desk("ops")
    many = {f"f{i}": "x" for i in range(60)}
    r = ops.post("/channels/kiosk/state", many)
    assert r.status_code == 422 and "INVALID_FORM" in r.text
    r = ops.post("/channels/kiosk/state", {"open": "0", "reason": "升级\x00"})
    assert r.status_code == 422 and "INVALID_CHARACTERS" in r.text
    r = ops.client.post("/console/channels/kiosk/state", files={"f": ("a.txt", b"x")},
                        data={"csrf_token": ops.csrf}, follow_redirects=False)
    assert r.status_code == 422
    assert _commands(console) == 0


def test_an_unexpected_fault_is_a_chinese_page_without_a_trace(console, monkeypatch):
    from hpf.gateway import manage

    ops = console.desk("ops")

    def broken(_factory):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(manage, "channels_view", broken)
    r = ops.get("/channels")
    assert r.status_code == 500 and "系统繁忙" in r.text and "secret internals" not in r.text
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
