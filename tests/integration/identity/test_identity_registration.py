"""Member registration: records match, SMS code from the outbox, refusals write nothing."""

from datetime import timedelta

from idn_support import ID15, ID18, NAME, PASSWORD, PHONE, latest_code, login, register_member
from sqlalchemy import func, select

from hpf.identity.errors import NOT_A_MEMBER_MESSAGE
from hpf.identity.models import OtpCode, UserAccount
from hpf.kit import clock
from hpf.kit.ids import id_check_digit
from hpf.kit.sealed import id_number_index
from hpf.notices.models import OutboxMessage

SMS = "/api/v1/auth/register/sms-code"
REGISTER = "/api/v1/auth/register"
UNKNOWN_ID = "44030619900101123" + id_check_digit("44030619900101123")
BODY = {"name": NAME, "id_number": ID18, "phone": PHONE}


def _count(factory, model) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_happy_path(client, factory, world) -> None:
    r = client.post(SMS, json=BODY)
    assert r.status_code == 200, r.text
    assert r.json() == {"phone": "139****1111", "expires_in_s": 300}
    with factory() as session:
        message = session.scalars(select(OutboxMessage)).one()
        otp = session.scalars(select(OtpCode)).one()
    assert message.channel == "sms" and message.recipient == PHONE
    assert message.template == "otp.register"
    assert "5分钟内有效" in message.content
    code = latest_code(factory)
    assert code not in otp.code_hash  # only a keyed hash is stored

    r = client.post(REGISTER, json={**BODY, "code": code, "password": PASSWORD})
    assert r.status_code == 201, r.text
    assert r.json()["login_name"] == ID18[:6] + "********" + ID18[-4:]
    with factory() as session:
        user = session.scalars(select(UserAccount)).one()
        otp = session.scalars(select(OtpCode)).one()
    # The account holds the ID number only as its blind index.
    assert (user.kind, user.login_name, user.member_id) == (
        "member", id_number_index(ID18), world.member_id)
    assert user.display_name == NAME and user.phone == PHONE
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert otp.used_at is not None
    assert login(client, "member", ID18, PASSWORD).status_code == 200


def test_15_digit_id_and_spacing_are_normalised(client, factory) -> None:
    body = {"name": f" {NAME} ", "id_number": ID15, "phone": f"{PHONE} "}
    assert client.post(SMS, json=body).status_code == 200
    r = client.post(REGISTER, json={**body, "code": latest_code(factory), "password": PASSWORD})
    assert r.status_code == 201, r.text


def test_records_must_match(client, factory) -> None:
    for body in (
        {**BODY, "name": "卢青"},
        {**BODY, "phone": "13999991112"},
        {**BODY, "id_number": UNKNOWN_ID},  # valid, not on record
    ):
        r = client.post(SMS, json=body)
        assert r.status_code == 422, body
        assert r.json() == {"code": "NOT_A_MEMBER", "message": NOT_A_MEMBER_MESSAGE}
    r = client.post(REGISTER, json={**BODY, "name": "卢青", "code": "123456",
                                    "password": PASSWORD})
    assert r.json()["code"] == "NOT_A_MEMBER"
    assert _count(factory, OtpCode) == 0
    assert _count(factory, OutboxMessage) == 0
    assert _count(factory, UserAccount) == 0


def test_malformed_id_and_phone(client) -> None:
    r = client.post(SMS, json={**BODY, "id_number": ID18[:17] + "0"})
    assert r.status_code == 422 and r.json()["code"] == "INVALID_ID_NUMBER"
    r = client.post(SMS, json={**BODY, "phone": "12345678901"})
    assert r.status_code == 422 and r.json()["code"] == "INVALID_PHONE"


def test_wrong_code_counts_attempts(client, factory) -> None:
    client.post(SMS, json=BODY)
    code = latest_code(factory)
    wrong = "000000" if code != "000000" else "111111"
    r = client.post(REGISTER, json={**BODY, "code": wrong, "password": PASSWORD})
    assert r.status_code == 422
    assert r.json()["code"] == "OTP_INVALID"
    assert r.json()["details"] == {"attempts_left": 4}
    with factory() as session:
        assert session.scalars(select(OtpCode)).one().attempts == 1  # committed despite refusal
    for _ in range(4):
        client.post(REGISTER, json={**BODY, "code": wrong, "password": PASSWORD})
    # Five wrong guesses spend the code: the right one no longer works.
    r = client.post(REGISTER, json={**BODY, "code": code, "password": PASSWORD})
    assert r.status_code == 422 and r.json()["code"] == "OTP_INVALID"
    assert _count(factory, UserAccount) == 0


def test_code_is_single_use(client, factory) -> None:
    register_member(client, factory)
    r = client.post(REGISTER, json={**BODY, "code": latest_code(factory), "password": PASSWORD})
    assert r.status_code == 409 and r.json()["code"] == "ALREADY_REGISTERED"


def test_expired_code(client, factory) -> None:
    client.post(SMS, json=BODY)
    code = latest_code(factory)
    with clock.frozen(clock.today() + timedelta(days=1)):
        r = client.post(REGISTER, json={**BODY, "code": code, "password": PASSWORD})
    assert r.status_code == 422 and r.json()["code"] == "OTP_EXPIRED"
    assert _count(factory, UserAccount) == 0


def test_resend_is_rate_limited(client, factory) -> None:
    assert client.post(SMS, json=BODY).status_code == 200
    r = client.post(SMS, json=BODY)
    assert r.status_code == 429 and r.json()["code"] == "OTP_TOO_FREQUENT"
    assert _count(factory, OutboxMessage) == 1
    with clock.frozen(clock.today() + timedelta(days=1)):
        assert client.post(SMS, json=BODY).status_code == 200
        # The newest code is the one that counts.
        code = latest_code(factory)
        r = client.post(REGISTER, json={**BODY, "code": code, "password": PASSWORD})
        assert r.status_code == 201, r.text


def test_duplicate_registration(client, factory) -> None:
    register_member(client, factory)
    r = client.post(SMS, json=BODY)
    assert r.status_code == 409 and r.json()["code"] == "ALREADY_REGISTERED"
    assert _count(factory, OutboxMessage) == 1


def test_weak_password_does_not_spend_the_code(client, factory) -> None:
    client.post(SMS, json=BODY)
    code = latest_code(factory)
    for weak in ("abcdefgh", "12345678", "ab1", "a1" * 33, ID18, ID18.lower()):
        r = client.post(REGISTER, json={**BODY, "code": code, "password": weak})
        assert r.status_code == 422, weak
        assert r.json()["code"] == "WEAK_PASSWORD", weak
    r = client.post(REGISTER, json={**BODY, "code": code, "password": PASSWORD})
    assert r.status_code == 201, r.text


def test_unknown_fields_and_limits(client) -> None:
    assert client.post(SMS, json={**BODY, "extra": 1}).status_code == 422
    assert client.post(SMS, json={"name": NAME, "id_number": ID18}).status_code == 422
    assert client.post(SMS, json={**BODY, "name": "名" * 51}).status_code == 422
    r = client.post(REGISTER, json={**BODY, "code": "123456", "password": "x" * 129})
    assert r.status_code == 422
    r = client.post(REGISTER, json={**BODY, "code": "123456", "password": PASSWORD, "x": 1})
    assert r.status_code == 422


def test_unknown_channel(client) -> None:
    r = client.post(SMS, json=BODY, headers={"X-HPF-Channel": "fax"})
    assert r.status_code == 403 and r.json()["code"] == "CHANNEL_MISMATCH"
