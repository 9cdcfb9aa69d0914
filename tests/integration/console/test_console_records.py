"""Read-only pages: audit search and its pages, chain verification, users, SMS, login log."""

import re
from datetime import timedelta

from sqlalchemy import select

from hpf.audit import service as audit
from hpf.identity.models import UserAccount
from hpf.kit import clock
from hpf.kit.db import transaction
from hpf.notices.service import send_sms


def _seqs(text: str) -> list[int]:
    table = text[text.index('id="audit"'):]
    return [int(s) for s in re.findall(r"<tr><td>(\d+)</td>", table)]


def test_audit_search_filters(console):
    auditor = console.desk("audit1")
    console.desk("ops")
    from console.conftest import login_form

    login_form(console.browser(), "ops", "wrong-password", "123456")
    page = auditor.get("/audit", event="login")
    rows = page.text[page.text.index('id="audit"'):]
    assert page.status_code == 200 and rows.count("<code>login</code>") == 3
    assert "<code>service.call</code>" not in rows
    failures = auditor.get("/audit", event="log", outcome="failure").text
    assert len(_seqs(failures)) == 1 and "BAD_CREDENTIALS" in failures
    mine = auditor.get("/audit", actor="ops").text
    assert len(_seqs(mine)) == 2
    assert len(_seqs(auditor.get("/audit", channel="counter", event="login").text)) == 3
    assert _seqs(auditor.get("/audit", channel="wechat").text) == []
    today = clock.local_now().date()
    assert len(_seqs(auditor.get("/audit", since=str(today), until=str(today),
                                 event="login").text)) == 3
    later = str(today + timedelta(days=1))
    assert _seqs(auditor.get("/audit", since=later).text) == []
    r = auditor.get("/audit", since=later, until=str(today))
    assert r.status_code == 422 and "开始日期不能晚于结束日期" in r.text
    r = auditor.get("/audit", event="x" * 65)
    assert r.status_code == 422 and "请求参数有误" in r.text


def test_audit_pages_are_fifty_records_and_bounded(console):
    with transaction(console.url) as s:
        for i in range(110):
            audit.record(s, "test.event", "success", actor_kind="system", actor_name="batch",
                         target=f"t{i}")
    auditor = console.desk("audit1")
    first = auditor.get("/audit", event="test.")
    seqs = _seqs(first.text)
    assert len(seqs) == 50 and seqs == sorted(seqs, reverse=True)
    link = re.search(r'id="next-page" href="([^"]+)"', first.text).group(1).replace("&amp;", "&")
    assert "event=test." in link and f"before={seqs[-1]}" in link
    second = auditor.client.get(link)
    assert _seqs(second.text) == [s - 50 for s in seqs]
    third = auditor.get("/audit", event="test.", before=str(seqs[-1] - 50))
    assert len(_seqs(third.text)) == 10 and 'id="next-page"' not in third.text
    for bad in ("0", "-1", str(2**63), "abc"):
        r = auditor.get("/audit", before=bad)
        assert r.status_code == 422, bad


def test_verify_chain_button(console):
    auditor = console.desk("audit1")
    r = auditor.post("/audit/verify", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "审计链完整" in r.text
    assert auditor.post("/audit/verify", csrf=None).status_code == 403
    assert console.desk("clerk").post("/audit/verify").status_code == 403


def test_users_list_masks_personal_data_and_searches_by_login(console):
    auditor = console.desk("audit1")
    page = auditor.get("/users")
    assert page.status_code == 200
    assert "139****1111" in page.text and "13900001111" not in page.text
    found = auditor.get("/users", q="unit0").text
    assert "unit01" in found and ">ops<" not in found
    staff_only = auditor.get("/users", kind="staff").text
    assert ">ops<" in staff_only and "unit01" not in staff_only
    assert auditor.get("/users", kind="alien").status_code == 422
    assert console.desk("clerk").get("/users").status_code == 403
    with transaction(console.url) as s:
        assert s.scalar(select(UserAccount.id).where(UserAccount.login_name == "boss"))


def test_sms_outbox_hides_codes_except_from_administrators(console):
    with transaction(console.url) as s:
        send_sms(s, "13912345678", "otp.register", "您的注册验证码为482913，5分钟内有效。")
    clerk = console.desk("clerk").get("/sms").text
    assert "139****5678" in clerk and "******" in clerk and "482913" not in clerk
    boss = console.desk("boss").get("/sms").text
    assert "13912345678" in boss and "482913" in boss
    assert console.desk("ops").get("/sms").status_code == 403


def test_login_log(console):
    auditor = console.desk("audit1")
    console.desk("ops")
    page = auditor.get("/logins", q="ops")
    assert page.status_code == 200 and page.text.count("<td>ops</td>") == 1
    assert auditor.get("/logins", outcome="failure").text.count("<td>ops</td>") == 0
    assert auditor.get("/logins", outcome="maybe").status_code == 422


def test_member_accounts_show_a_masked_id_number_and_are_found_by_it(console):
    city = console.city
    member_no = city.open_member(city.login("unit", "unit01"), 7, "王小明")
    city.member_login(member_no)
    with transaction(console.url) as s:
        from hpf.deposits.models import Member

        id_number = s.scalars(select(Member.id_number)
                              .where(Member.member_no == member_no)).one()
    auditor = console.desk("audit1")
    masked = id_number[:6] + "********" + id_number[-4:]
    page = auditor.get("/users", kind="member").text
    assert masked in page and id_number not in page and "王小明" in page
    found = auditor.get("/users", q=id_number).text
    assert masked in found and "unit01" not in found
    assert "没有符合条件的用户" in auditor.get("/users", q="110101199001011237").text
    logins = auditor.get("/logins", q=id_number).text
    table = logins[logins.index('id="logins"'):]  # the search box shows what was typed
    assert masked in table and id_number not in table
