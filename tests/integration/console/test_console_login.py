"""Console sign-in: password plus TOTP, the cookie's flags, non-staff refused, logout."""

from datetime import timedelta

from deposits.conftest import PASSWORD
from sqlalchemy import select

from console.conftest import CSRF, login_form
from hpf.identity.models import LoginEvent
from hpf.kit import clock
from hpf.kit.db import session_factory, transaction
from support import staff


def test_login_with_totp_opens_a_strict_httponly_session(console):
    browser = console.browser()
    assert browser.get("/console", follow_redirects=False).headers["location"] == "/console/login"
    code = staff.totp_code(session_factory(console.url), "ops")
    r = login_form(browser, "ops", PASSWORD, code)
    assert r.status_code == 303 and r.headers["location"] == "/console"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("hpf_console="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    page = browser.get("/console")
    assert page.status_code == 200 and "渠道运营" in page.text
    # The navigation shows what a channel operator may use, and nothing else.
    assert "渠道管理" in page.text and "服务部署" in page.text
    assert ">审计<" not in page.text and ">用户<" not in page.text
    with transaction(console.url) as s:
        event = s.scalars(select(LoginEvent).order_by(LoginEvent.id.desc())).first()
        assert (event.login_name, event.channel, event.outcome) == ("ops", "counter", "success")

    # Logging out ends the session: the same cookie no longer opens the console.
    token = CSRF.search(page.text).group(1)
    r = browser.post("/console/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    browser.cookies.set("hpf_console", cookie.split(";")[0].split("=", 1)[1], path="/console")
    assert browser.get("/console", follow_redirects=False).status_code == 303


def test_wrong_totp_or_password_is_refused_in_chinese_and_logged(console):
    browser = console.browser()
    r = login_form(browser, "ops", PASSWORD, "000000")
    assert r.status_code == 401 and "动态口令错误" in r.text, r.text
    assert "hpf_console=" not in "".join(r.headers.get_list("set-cookie"))
    r = login_form(browser, "ops", "wrong-password", staff.totp_code(session_factory(console.url),
                                                                      "ops"))
    assert r.status_code == 401
    r = login_form(browser, "ops", PASSWORD, "12ab")
    assert r.status_code == 422 and "动态口令应为6位数字" in r.text
    with transaction(console.url) as s:
        reasons = s.scalars(select(LoginEvent.reason).where(LoginEvent.outcome == "failure")
                            .order_by(LoginEvent.id)).all()
    assert reasons == ["BAD_TOTP", "BAD_CREDENTIALS"]


def test_non_staff_cannot_use_the_console(console):
    browser = console.browser()
    # A unit operator's credentials are not a staff login.
    r = login_form(browser, "unit01", PASSWORD, "123456")
    assert r.status_code == 401
    # Nor does a unit operator's session token open the console.
    unit = console.city.login("unit", "unit01")
    token = unit["Authorization"].removeprefix("Bearer ")
    browser.cookies.set("hpf_console", token, path="/console")
    r = browser.get("/console")
    assert r.status_code == 403 and "仅限公积金中心工作人员" in r.text


def test_login_form_needs_its_csrf_token(console):
    browser = console.browser()
    browser.get("/console/login")
    code = staff.totp_code(session_factory(console.url), "ops")
    r = browser.post("/console/login", data={"login_name": "ops", "password": PASSWORD,
                                             "otp": code}, follow_redirects=False)
    assert r.status_code == 403 and "CSRF_FAILED" in r.text
    with transaction(console.url) as s:
        assert s.scalar(select(LoginEvent.id)) is None


def test_an_idle_console_session_ends(console):
    ops = console.desk("ops")
    assert ops.get("/channels").status_code == 200
    with clock.frozen(clock.now() + timedelta(minutes=16)):
        r = ops.client.get("/console/channels", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/console/login"
        r = ops.client.get("/console/approvals", headers={"HX-Request": "true"})
        assert r.status_code == 401 and r.headers["hx-redirect"] == "/console/login"
