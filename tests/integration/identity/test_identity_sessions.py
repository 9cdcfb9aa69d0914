"""Sessions: bearer and cookie, /me, logout, idle and absolute expiry, staff roles, password
change, and the transaction rules of the `get_db` dependency."""

from datetime import timedelta

import pytest
from idn_support import PASSWORD, STAFF_PASSWORD, UNIT_PASSWORD, login
from sqlalchemy import select, update

from hpf.identity import passwords, service
from hpf.identity.domain import after_failure
from hpf.identity.models import AuthSession, LoginEvent, UserAccount
from hpf.kit import clock
from hpf.kit.errors import HpfError

ME = "/api/v1/auth/me"
LOGOUT = "/api/v1/auth/logout"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _token(make_client, kind: str = "staff", name: str = "admin01",
           password: str = STAFF_PASSWORD) -> str:
    r = login(make_client(), kind, name, password)
    assert r.status_code == 200, r.text
    return r.json()["token"]


def test_me_with_and_without_token(make_client, staff_and_unit) -> None:
    anonymous = make_client()
    r = anonymous.get(ME)
    assert r.status_code == 401 and r.json()["code"] == "LOGIN_REQUIRED"
    r = anonymous.get(ME, headers=_bearer("not-a-token"))
    assert r.status_code == 401 and r.json()["code"] == "SESSION_EXPIRED"
    r = anonymous.get(ME, headers={"Authorization": "Basic abc"})
    assert r.json()["code"] == "SESSION_EXPIRED"

    token = _token(make_client)
    r = anonymous.get(ME, headers=_bearer(token))
    assert r.status_code == 200
    assert r.json()["kind"] == "staff" and r.json()["roles"] == ["admin"]


def test_cookie_session(make_client, staff_and_unit) -> None:
    browser = make_client()
    assert login(browser, "unit", "unit.op1", UNIT_PASSWORD).status_code == 200
    assert browser.get(ME).json()["kind"] == "unit"  # the cookie alone
    r = browser.post(LOGOUT)
    assert r.status_code == 200 and r.json() == {"revoked": True}
    assert "hpf_session=" in r.headers["set-cookie"]  # cleared
    r = browser.get(ME)
    assert r.status_code == 401 and r.json()["code"] == "LOGIN_REQUIRED"


def test_logout_invalidates_the_token(make_client, factory, staff_and_unit) -> None:
    token = _token(make_client)
    other = _token(make_client)
    api = make_client()
    assert api.get(ME, headers=_bearer(token)).status_code == 200
    assert api.post(LOGOUT, headers=_bearer(token)).json() == {"revoked": True}
    r = api.get(ME, headers=_bearer(token))
    assert r.status_code == 401 and r.json()["code"] == "SESSION_EXPIRED"
    assert api.post(LOGOUT, headers=_bearer(token)).json() == {"revoked": False}
    assert api.post(LOGOUT).json() == {"revoked": False}
    assert api.get(ME, headers=_bearer(other)).status_code == 200  # other sessions live on
    with factory() as session:
        reasons = sorted(str(s.revoked_reason) for s in session.scalars(select(AuthSession)))
    assert reasons == ["None", "logout"]


def test_idle_timeout(make_client, factory, staff_and_unit) -> None:
    token = _token(make_client)
    api = make_client()
    with factory() as session, session.begin():
        session.execute(update(AuthSession).values(
            idle_expires_at=clock.now() - timedelta(seconds=1)))
    r = api.get(ME, headers=_bearer(token))
    assert r.status_code == 401 and r.json()["code"] == "SESSION_EXPIRED"


def test_idle_expiry_slides_at_most_every_30_seconds(make_client, factory,
                                                      staff_and_unit) -> None:
    token = _token(make_client)
    api = make_client()

    def stored() -> AuthSession:
        with factory() as session:
            return session.scalars(select(AuthSession)).one()

    first = stored()
    assert api.get(ME, headers=_bearer(token)).status_code == 200
    assert stored().last_seen_at == first.last_seen_at  # within 30 s: no write
    earlier = clock.now() - timedelta(seconds=40)
    with factory() as session, session.begin():
        session.execute(update(AuthSession).values(
            last_seen_at=earlier, idle_expires_at=earlier + timedelta(seconds=900)))
    assert api.get(ME, headers=_bearer(token)).status_code == 200
    slid = stored()
    assert slid.last_seen_at > first.last_seen_at
    assert slid.idle_expires_at > first.idle_expires_at


def test_a_day_later_every_session_has_expired(make_client, staff_and_unit) -> None:
    token = _token(make_client)
    with clock.frozen(clock.today() + timedelta(days=1)):
        r = make_client().get(ME, headers=_bearer(token))
    assert r.json()["code"] == "SESSION_EXPIRED"


def test_absolute_timeout(make_client, factory, staff_and_unit) -> None:
    token = _token(make_client)
    with factory() as session, session.begin():
        session.execute(update(AuthSession).values(
            absolute_expires_at=clock.now() - timedelta(seconds=1)))
    assert make_client().get(ME, headers=_bearer(token)).json()["code"] == "SESSION_EXPIRED"


def test_staff_lock_and_disable_end_sessions(make_client, factory, staff_and_unit) -> None:
    token = _token(make_client)
    api = make_client()
    with factory() as session, session.begin():
        session.execute(update(UserAccount).where(UserAccount.id == staff_and_unit["admin"])
                        .values(status="locked", locked_until=None))
    assert api.get(ME, headers=_bearer(token)).status_code == 401


def test_lockout_by_failures_keeps_sessions(make_client, staff_and_unit) -> None:
    token = _token(make_client)
    for i in range(5):
        login(make_client(), "staff", "admin01", f"Wrong{i}pass")
    assert make_client().get(ME, headers=_bearer(token)).status_code == 200


def test_require_staff(make_client, factory, world, staff_and_unit) -> None:
    with factory() as session, session.begin():
        service.create_staff(session, "approver1", "审批员丙", STAFF_PASSWORD, {"approver"})
    api = make_client()
    url = "/t/staff/approver"
    assert api.get(url).json()["code"] == "LOGIN_REQUIRED"
    unit = _token(make_client, "unit", "unit.op1", UNIT_PASSWORD)
    r = api.get(url, headers=_bearer(unit))
    assert r.status_code == 403 and r.json()["code"] == "STAFF_ONLY"
    clerk = _token(make_client, "staff", "clerk01")
    r = api.get(url, headers=_bearer(clerk))
    assert r.status_code == 403 and r.json()["code"] == "ROLE_REQUIRED"
    for name in ("approver1", "admin01"):
        assert api.get(url, headers=_bearer(_token(make_client, "staff", name))).status_code == 200
    with pytest.raises(ValueError):
        from hpf.channels.api.deps import require_staff

        require_staff("superuser")


def _probe_events(factory) -> int:
    with factory() as session:
        return len(session.scalars(select(LoginEvent).where(LoginEvent.reason == "PROBE")).all())


def test_get_db_commits_success_and_keep_writes_rolls_back_the_rest(
        make_client, factory, staff_and_unit) -> None:
    """An endpoint using both a DbSession and the principal (no second-session deadlock)."""
    token = _token(make_client)
    api = make_client()
    assert api.post("/t/db-and-principal", headers=_bearer(token)).json() == {"ok": True}
    assert _probe_events(factory) == 1
    r = api.post("/t/db-and-principal?fail=plain", headers=_bearer(token))
    assert r.status_code == 400 and r.json()["code"] == "PROBE"
    assert _probe_events(factory) == 1  # rolled back
    r = api.post("/t/db-and-principal?fail=keep", headers=_bearer(token))
    assert r.status_code == 401 and r.json()["code"] == "BAD_CREDENTIALS"
    assert _probe_events(factory) == 2  # kept


def test_change_password(make_client, factory, staff_and_unit) -> None:
    keep = _token(make_client, "unit", "unit.op1", UNIT_PASSWORD)
    drop = _token(make_client, "unit", "unit.op1", UNIT_PASSWORD)
    api = make_client()
    keep_id = None
    with factory() as session, session.begin():
        keep_id = service.resolve(session, keep).session_id
    user_id = staff_and_unit["unit"]

    def change(old: str, new: str) -> int:
        with factory() as session, session.begin():
            return service.change_password(session, user_id, old, new, keep_id)

    with pytest.raises(HpfError) as caught:
        change("Wrong1234", "NewPass2025")
    assert caught.value.code == "OLD_PASSWORD_WRONG" and caught.value.status == 422
    for new, code in [(UNIT_PASSWORD, "WEAK_PASSWORD"), ("short1", "WEAK_PASSWORD"),
                      ("unit.op1", "WEAK_PASSWORD")]:
        with pytest.raises(HpfError) as caught:
            change(UNIT_PASSWORD, new)
        assert caught.value.code == code
    assert change(UNIT_PASSWORD, "NewPass2025") == 1
    assert api.get(ME, headers=_bearer(keep)).status_code == 200
    assert api.get(ME, headers=_bearer(drop)).status_code == 401
    assert login(make_client(), "unit", "unit.op1", UNIT_PASSWORD).status_code == 401
    assert login(make_client(), "unit", "unit.op1", "NewPass2025").status_code == 200


# --- pure rules (no database) ---------------------------------------------------------------

def test_password_policy() -> None:
    assert passwords.policy_problem(PASSWORD) is None
    assert passwords.policy_problem("abcdefgh")
    assert passwords.policy_problem("12345678")
    assert passwords.policy_problem("ab12")
    assert passwords.policy_problem("a1" * 32) is None  # 64 is the limit
    assert passwords.policy_problem("a1" * 32 + "x")
    assert passwords.policy_problem("abc\n12345")
    assert passwords.policy_problem("53012319990724232X", id_number="53012319990724232X")
    assert passwords.policy_problem("53012319990724232x", id_number="53012319990724232X")
    with pytest.raises(HpfError) as caught:
        passwords.check_policy("weak")
    assert caught.value.code == "WEAK_PASSWORD" and caught.value.status == 422


def test_password_hashing() -> None:
    h = passwords.hash_password(PASSWORD)
    assert h.startswith("$argon2id$")
    assert passwords.verify_password(h, PASSWORD)
    assert not passwords.verify_password(h, PASSWORD + "x")
    assert not passwords.verify_password("garbage", PASSWORD)
    assert not passwords.needs_rehash(h)
    assert passwords.needs_rehash("garbage")


def test_production_hasher_strength() -> None:
    # The suite swaps in a cheap hasher (conftest); the module's own one is argon2id, >= 64 MiB.
    from argon2 import Type

    hasher = passwords.DEFAULT_HASHER
    assert hasher.type is Type.ID and hasher.memory_cost >= 65536 and hasher.time_cost >= 2


def test_failure_window_rule() -> None:
    t0 = clock.now()
    kw = {"max_failures": 3, "window_s": 60, "lockout_s": 600}
    s = after_failure(0, None, t0, **kw)
    assert (s.failed_count, s.first_failed_at, s.locked_until) == (1, t0, None)
    s = after_failure(s.failed_count, s.first_failed_at, t0 + timedelta(seconds=30), **kw)
    assert s.failed_count == 2 and s.locked_until is None
    locked = after_failure(2, t0, t0 + timedelta(seconds=60), **kw)
    assert locked.failed_count == 3
    assert locked.locked_until == t0 + timedelta(seconds=660)
    fresh = after_failure(2, t0, t0 + timedelta(seconds=61), **kw)
    assert (fresh.failed_count, fresh.locked_until) == (1, None)
