"""After repeated failures the console's login form shows identity's picture captcha."""

import re

from deposits.conftest import PASSWORD

from console.conftest import login_form
from hpf.kit.db import session_factory
from support import staff


def test_repeated_failures_bring_the_captcha_into_the_form(console):
    browser = console.browser()
    for _ in range(3):
        r = login_form(browser, "ops", "wrong-password", "123456")
    assert r.status_code == 401 and "请输入图形验证码" in r.text, r.text
    assert 'src="data:image/png;base64,' in r.text
    assert 'name="captcha_answer"' in r.text
    captcha_id = re.search(r'name="captcha_id" value="([^"]+)"', r.text).group(1)
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', r.text).group(1)
    r = browser.post("/console/login", data={
        "csrf_token": token, "login_name": "ops", "password": PASSWORD,
        "otp": staff.totp_code(session_factory(console.url), "ops"),
        "captcha_id": captcha_id, "captcha_answer": "XXXX"}, follow_redirects=False)
    assert r.status_code == 401 and "图形验证码错误" in r.text
