"""Constants and helpers shared by the identity tests."""

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hpf.kit.ids import id_check_digit, upgrade_id15
from hpf.kit.sealed import recipient_index
from hpf.notices.models import OutboxMessage
from support import staff

ID15 = "530123990724232"
ID18 = upgrade_id15(ID15)
NAME = "卢青怡"
PHONE = "13999991111"
OTHER_FIRST17 = "11010519850312001"
OTHER_ID = OTHER_FIRST17 + id_check_digit(OTHER_FIRST17)
PASSWORD = "Gjj2024abc"
STAFF_PASSWORD = "Staff2024pw"
UNIT_PASSWORD = "Unit2024pw"


def latest_code(factory: sessionmaker[Session], phone: str = PHONE) -> str:
    """The code in the newest SMS to a phone, as the member would read it."""
    with factory() as session:
        message = session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient_bidx == recipient_index(phone))
            .order_by(OutboxMessage.id.desc())
        ).first()
    assert message is not None
    match = re.search(r"验证码为(\d{6})", message.content)
    assert match, message.content
    return match.group(1)


def register_member(client: TestClient, factory: sessionmaker[Session],
                    password: str = PASSWORD) -> None:
    body = {"name": NAME, "id_number": ID18, "phone": PHONE}
    assert client.post("/api/v1/auth/register/sms-code", json=body).status_code == 200
    r = client.post("/api/v1/auth/register",
                    json={**body, "code": latest_code(factory), "password": password})
    assert r.status_code == 201, r.text


def login(client: TestClient, kind: str, login_name: str, password: str, **headers: str):
    body = {"kind": kind, "login_name": login_name, "password": password}
    if kind == "staff":  # staff sign in with their authenticator's code as well
        body["otp"] = staff.totp_code(client.app.state.session_factory, login_name)
    return client.post("/api/v1/auth/login", headers=headers, json=body)
