"""Captcha after repeated login failures: required, spent by one guess, never a lockout."""

from deposits.conftest import PASSWORD
from sqlalchemy import select

from hpf.identity import captcha
from hpf.identity.models import UserAccount
from hpf.identity.security_models import Captcha
from hpf.kit.db import transaction


def _login(city, password, **extra):
    body = {"kind": "unit", "login_name": "unit01", "password": password, **extra}
    return city.client.post("/api/v1/auth/login", json=body)


def _captcha(city, monkeypatch, answer="K7MP"):
    monkeypatch.setattr(captcha, "_answer", lambda: answer)
    r = city.client.post("/api/v1/auth/captcha")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["image"].startswith("data:image/png;base64,") and body["expires_in_s"] == 300
    return body["captcha_id"]


def test_two_failures_then_the_captcha_is_required(city, monkeypatch):
    assert _login(city, "wrong-1").json()["code"] == "BAD_CREDENTIALS"
    assert _login(city, "wrong-2").json()["code"] == "BAD_CREDENTIALS"
    # From now on even the right password needs the picture.
    r = _login(city, PASSWORD)
    assert r.status_code == 401 and r.json()["code"] == "CAPTCHA_REQUIRED", r.text
    assert r.json()["message"] == "登录失败次数较多，请输入图形验证码"

    cid = _captcha(city, monkeypatch)
    r = _login(city, PASSWORD, captcha_id=cid, captcha="XXXX")
    assert r.status_code == 401 and r.json()["code"] == "BAD_CAPTCHA"
    # One picture, one guess: the right answer on a spent picture is refused too.
    r = _login(city, PASSWORD, captcha_id=cid, captcha="K7MP")
    assert r.json()["code"] == "BAD_CAPTCHA"
    # Captcha refusals do not count towards the lockout (5 failures): the account is fine.
    with transaction(city.url) as s:
        user = s.scalars(select(UserAccount).where(UserAccount.login_name == "unit01")).one()
        assert (user.status, user.failed_count) == ("active", 2)

    cid = _captcha(city, monkeypatch)
    r = _login(city, PASSWORD, captcha_id=cid, captcha="k7mp ")  # case and spaces forgiven
    assert r.status_code == 200, r.text
    with transaction(city.url) as s:
        assert s.scalars(select(Captcha.used_at).where(Captcha.used_at.is_(None))).all() == []


def test_unknown_names_and_one_address_trying_many_names_meet_the_captcha(city, monkeypatch):
    for i in range(2):
        body = {"kind": "unit", "login_name": "nobody99", "password": f"x{i}"}
        assert city.client.post("/api/v1/auth/login", json=body).status_code == 401
    body = {"kind": "unit", "login_name": "nobody99", "password": "x"}
    assert city.client.post("/api/v1/auth/login", json=body).json()["code"] == "CAPTCHA_REQUIRED"
    # Ten failures from one address across names: every name from there needs a captcha.
    for i in range(8):
        body = {"kind": "unit", "login_name": f"guess{i:02d}", "password": "x"}
        assert city.client.post("/api/v1/auth/login", json=body).json()["code"] == \
            "BAD_CREDENTIALS"
    r = _login(city, PASSWORD)
    assert r.json()["code"] == "CAPTCHA_REQUIRED", r.text


def test_captcha_input_is_bounded_and_drawing_is_rate_limited(city, monkeypatch):
    r = _login(city, PASSWORD, captcha_id="x" * 65, captcha="ABCD")
    assert r.status_code == 422 and r.json()["code"] == "INVALID_INPUT"
    r = _login(city, PASSWORD, captcha_id="abc", captcha="ABCDEFGHI")
    assert r.status_code == 422
    monkeypatch.setattr(captcha, "_answer", lambda: "AAAA")
    codes = [city.client.post("/api/v1/auth/captcha").status_code for _ in range(31)]
    assert codes[:30] == [200] * 30 and codes[30] == 429


def test_members_sign_in_by_id_number_or_account_number(city):
    unit = city.login("unit", "unit01")
    member_no = city.open_member(unit, 71, "账号登录", 400_000)
    by_id = city.member_login(member_no)
    assert by_id
    r = city.client.post("/api/v1/auth/login", json={"kind": "member", "login_name": member_no,
                                                     "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["principal"]["member_id"] is not None
    # An unknown account number is the same refusal as a wrong password (no enumeration).
    r = city.client.post("/api/v1/auth/login", json={"kind": "member",
                                                     "login_name": "53019999999999",
                                                     "password": PASSWORD})
    assert r.status_code == 401 and r.json()["code"] == "BAD_CREDENTIALS"
