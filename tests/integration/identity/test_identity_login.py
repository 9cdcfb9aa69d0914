"""Password login for members, unit operators and staff; failures, lockout, the login log."""

from datetime import timedelta

import pytest
from idn_support import ID15, ID18, NAME, PASSWORD, STAFF_PASSWORD, UNIT_PASSWORD, login
from idn_support import register_member as register
from sqlalchemy import select

from hpf.identity import service
from hpf.identity.models import AuthSession, LoginEvent, UserAccount
from hpf.kit import clock
from hpf.kit.errors import HpfError
from hpf.kit.sealed import id_number_index

ME = "/api/v1/auth/me"


def _user(factory, kind: str, login_name: str) -> UserAccount:
    # A member's account is stored under the ID number's blind index, never the number.
    key = id_number_index(login_name) if kind == "member" else login_name
    with factory() as session:
        return session.scalars(select(UserAccount).where(
            UserAccount.kind == kind, UserAccount.login_name == key)).one()


def _events(factory) -> list[LoginEvent]:
    with factory() as session:
        return list(session.scalars(select(LoginEvent).order_by(LoginEvent.id)))


@pytest.mark.parametrize("login_name", [ID18, ID15, f" {ID18} "])
def test_member_login_by_id_number(client, factory, world, login_name) -> None:
    register(client, factory)
    client.cookies.clear()
    r = login(client, "member", login_name, PASSWORD, **{"user-agent": "pytest-ua"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and len(body["token"]) >= 32
    assert body["expires_in_s"] == 8 * 3600
    assert body["principal"] == {"kind": "member", "user_id": body["principal"]["user_id"],
                                 "name": NAME, "member_id": world.member_id,
                                 "employer_id": None, "roles": []}
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"hpf_session={body['token']}")
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    with factory() as session:
        stored = session.scalars(select(AuthSession)).one()
    assert stored.token_hash != body["token"] and len(stored.token_hash) == 64
    assert stored.channel == "hall" and stored.user_agent == "pytest-ua"
    event = _events(factory)[-1]
    assert (event.outcome, event.login_name, event.user_id) == (
        "success", id_number_index(ID18), body["principal"]["user_id"])
    assert _user(factory, "member", ID18).last_login_at is not None


def test_unit_operator_and_staff(client, world, staff_and_unit) -> None:
    r = login(client, "unit", "unit.op1", UNIT_PASSWORD, **{"X-HPF-Channel": "app"})
    assert r.status_code == 200, r.text
    p = r.json()["principal"]
    assert (p["kind"], p["employer_id"], p["member_id"], p["roles"]) == (
        "unit", world.employer_id, None, [])

    r = login(client, "staff", "clerk01", STAFF_PASSWORD, **{"X-HPF-Channel": "counter"})
    assert r.status_code == 200, r.text
    assert r.json()["principal"]["roles"] == ["clerk", "reviewer"]
    assert r.json()["principal"]["name"] == "柜员甲"

    # A login name belongs to its kind.
    r = login(client, "staff", "unit.op1", UNIT_PASSWORD)
    assert r.status_code == 401 and r.json()["code"] == "BAD_CREDENTIALS"


def test_unknown_user_and_wrong_password_look_alike(client, factory, staff_and_unit) -> None:
    wrong = login(client, "staff", "clerk01", "Wrong12345")
    unknown = login(client, "staff", "nobody99", "Wrong12345")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"code": "BAD_CREDENTIALS",
                                              "message": "用户名或密码错误"}
    events = _events(factory)
    assert [(e.login_name, e.outcome, e.reason) for e in events] == [
        ("clerk01", "failure", "BAD_CREDENTIALS"), ("nobody99", "failure", "BAD_CREDENTIALS")]
    assert events[0].user_id == staff_and_unit["clerk"] and events[1].user_id is None
    assert _user(factory, "staff", "clerk01").failed_count == 1


def test_lockout_after_five_failures(client, factory, staff_and_unit) -> None:
    codes = [login(client, "unit", "unit.op1", f"Wrong{i}pass").json()["code"]
             for i in range(5)]
    assert codes == ["BAD_CREDENTIALS"] * 4 + ["ACCOUNT_LOCKED"]
    user = _user(factory, "unit", "unit.op1")
    assert (user.status, user.failed_count) == ("locked", 5)
    assert user.locked_until is not None

    # Even the right password is refused while locked, and the attempt is logged.
    r = login(client, "unit", "unit.op1", UNIT_PASSWORD)
    assert r.status_code == 423 and r.json()["code"] == "ACCOUNT_LOCKED"
    assert "15分钟" in r.json()["message"]
    assert [e.reason for e in _events(factory)] == (
        ["BAD_CREDENTIALS"] * 4 + ["ACCOUNT_LOCKED", "ACCOUNT_LOCKED"])

    with clock.frozen(clock.today() + timedelta(days=1)):
        r = login(client, "unit", "unit.op1", UNIT_PASSWORD)
    assert r.status_code == 200, r.text
    user = _user(factory, "unit", "unit.op1")
    assert (user.status, user.failed_count, user.locked_until) == ("active", 0, None)


def test_failures_outside_the_window_start_over(client, factory, staff_and_unit) -> None:
    for i in range(4):
        login(client, "unit", "unit.op1", f"Wrong{i}pass")
    with clock.frozen(clock.today() + timedelta(days=1)):
        r = login(client, "unit", "unit.op1", "Wrong9pass")
    assert r.json()["code"] == "BAD_CREDENTIALS"
    assert _user(factory, "unit", "unit.op1").failed_count == 1


def test_success_resets_the_counter(client, factory, staff_and_unit) -> None:
    for i in range(3):
        login(client, "staff", "admin01", f"Wrong{i}pass")
    assert login(client, "staff", "admin01", STAFF_PASSWORD).status_code == 200
    assert _user(factory, "staff", "admin01").failed_count == 0


def test_disabled_account(client, factory, staff_and_unit) -> None:
    with factory() as session, session.begin():
        session.get(UserAccount, staff_and_unit["clerk"]).status = "disabled"
    r = login(client, "staff", "clerk01", STAFF_PASSWORD)
    assert r.status_code == 403 and r.json()["code"] == "ACCOUNT_DISABLED"
    r = login(client, "staff", "clerk01", "Wrong1234")
    assert r.json()["code"] == "BAD_CREDENTIALS"


def test_login_input_checks(client, staff_and_unit) -> None:
    url = "/api/v1/auth/login"
    ok = {"kind": "staff", "login_name": "admin01", "password": STAFF_PASSWORD}
    assert client.post(url, json={**ok, "remember": True}).status_code == 422
    assert client.post(url, json={**ok, "kind": "robot"}).status_code == 422
    assert client.post(url, json={**ok, "login_name": "a" * 65}).status_code == 422
    assert client.post(url, json={**ok, "password": "p" * 129}).status_code == 422
    r = login(client, "member", "12345", "whatever1")
    assert r.status_code == 422 and r.json()["code"] == "INVALID_ID_NUMBER"
    r = client.post(url, json=ok, headers={"X-HPF-Channel": "telegram"})
    assert r.status_code == 403 and r.json()["code"] == "CHANNEL_MISMATCH"


def test_account_creation_rules(factory, world, staff_and_unit) -> None:
    cases = [
        (lambda s: service.create_staff(s, "x1", "某", STAFF_PASSWORD, {"clerk"}),
         "INVALID_LOGIN_NAME"),
        (lambda s: service.create_staff(s, "admin01", "某", STAFF_PASSWORD, {"clerk"}),
         "LOGIN_NAME_TAKEN"),
        (lambda s: service.create_staff(s, "staff99", "某", STAFF_PASSWORD, {"root"}),
         "UNKNOWN_ROLE"),
        (lambda s: service.create_staff(s, "staff99", "某", STAFF_PASSWORD, set()),
         "UNKNOWN_ROLE"),
        (lambda s: service.create_staff(s, "staff99", "某", "staff99", {"clerk"}),
         "WEAK_PASSWORD"),
        (lambda s: service.create_unit_operator(s, 999_999, "unit.op9", "某", UNIT_PASSWORD),
         "EMPLOYER_NOT_FOUND"),
        (lambda s: service.create_unit_operator(s, world.employer_id, "unit.op9", "某",
                                                UNIT_PASSWORD, phone="123"),
         "INVALID_PHONE"),
    ]
    for make, code in cases:
        with factory() as session, session.begin(), pytest.raises(HpfError) as caught:
            make(session)
        assert caught.value.code == code
        assert 400 <= caught.value.status < 500
    # Unit operators and staff may share a login name: it is unique per kind.
    with factory() as session, session.begin():
        service.create_unit_operator(session, world.employer_id, "admin01", "某", UNIT_PASSWORD)
