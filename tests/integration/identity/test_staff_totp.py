"""Staff sign in with password plus a TOTP code (动态口令): each refusal, replay, lockout."""

from datetime import UTC, datetime, timedelta

from idn_support import STAFF_PASSWORD
from sqlalchemy import select

from hpf.identity import service, totp
from hpf.identity.models import UserAccount
from hpf.kit import clock

URL = "/api/v1/auth/login"
T0 = datetime(2026, 3, 16, 2, 0, 10, tzinfo=UTC)  # 10 s into a 30-s step


def _secret(factory) -> str:
    with factory() as s:
        return service.staff_totp_secret(s, "admin01")


def _login(client, otp=None, password=STAFF_PASSWORD):
    body = {"kind": "staff", "login_name": "admin01", "password": password}
    if otp is not None:
        body["otp"] = otp
    return client.post(URL, json=body)


def _refused(r, status, code):
    assert r.status_code == status and r.json()["code"] == code, r.text


def test_the_code_is_required_checked_and_used_once(client, factory, staff_and_unit):
    secret = _secret(factory)
    with clock.frozen(T0):
        now = T0.timestamp()
        _refused(_login(client), 401, "TOTP_REQUIRED")
        for malformed in ("12345", "1234567", "12a456", "١٢٣٤٥٦"):
            _refused(_login(client, malformed), 422, "INVALID_INPUT")
        wrong = str((int(totp.code_at(secret, now)) + 1) % 1_000_000).zfill(6)
        _refused(_login(client, wrong), 401, "BAD_TOTP")
        # A wrong password is reported as such, whatever the code: no oracle for the code.
        _refused(_login(client, totp.code_at(secret, now), password="Wrong12345"), 401,
                 "BAD_CREDENTIALS")
        assert _login(client, totp.code_at(secret, now)).status_code == 200
        _refused(_login(client, totp.code_at(secret, now)), 401, "TOTP_REUSED")
        # The step before is older than the one used: refused as well.
        _refused(_login(client, totp.code_at(secret, now - 30)), 401, "TOTP_REUSED")
        # The next step (an authenticator a little ahead) is accepted once.
        assert _login(client, totp.code_at(secret, now + 30)).status_code == 200
        # Two steps away is outside the window.
        _refused(_login(client, totp.code_at(secret, now + 60)), 401, "BAD_TOTP")
    with clock.frozen(T0 + timedelta(minutes=2)):
        now = (T0 + timedelta(minutes=2)).timestamp()
        assert _login(client, totp.code_at(secret, now - 30)).status_code == 200  # drift behind


def test_wrong_codes_count_towards_the_lockout(client, factory, staff_and_unit):
    secret = _secret(factory)
    with clock.frozen(T0):
        now = T0.timestamp()
        good = totp.code_at(secret, now)
        wrong = str((int(good) + 7) % 1_000_000).zfill(6)
        for _ in range(4):
            _refused(_login(client, wrong), 401, "BAD_TOTP")
        _refused(_login(client, wrong), 423, "ACCOUNT_LOCKED")
        _refused(_login(client, good), 423, "ACCOUNT_LOCKED")
    with factory() as s:
        user = s.scalars(select(UserAccount).where(UserAccount.login_name == "admin01")).one()
        assert user.status == "locked" and user.totp_last_step is None


def test_enrolment_replaces_the_secret_and_unenrolled_staff_cannot_sign_in(
        client, factory, staff_and_unit):
    old = _secret(factory)
    with factory() as s, s.begin():
        new = service.enrol_totp(s, "admin01")
    assert new != old and len(new) == 32
    uri = totp.provisioning_uri(new, "admin01")
    assert uri.startswith("otpauth://totp/") and f"secret={new}" in uri
    with clock.frozen(T0):
        _refused(_login(client, totp.code_at(old, T0.timestamp())), 401, "BAD_TOTP")
        assert _login(client, totp.code_at(new, T0.timestamp())).status_code == 200
    with factory() as s, s.begin():
        s.scalars(select(UserAccount).where(UserAccount.login_name == "admin01")).one() \
            .totp_secret_enc = None
    with clock.frozen(T0 + timedelta(minutes=1)):
        _refused(_login(client, totp.code_at(new, T0.timestamp() + 60)), 403, "TOTP_NOT_ENROLLED")
