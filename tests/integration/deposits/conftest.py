"""A small city for deposit tests: chart, parameters, staff, one employer and its operator."""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from hpf.catalog import params
from hpf.deposits import service
from hpf.deposits.models import Employer, Member
from hpf.exchange.models import RegEnterprise, RegPerson
from hpf.identity import passwords
from hpf.identity import service as identity
from hpf.kit import clock
from hpf.kit.db import session_factory, transaction
from hpf.kit.ids import id_birth_date, id_check_digit, uscc_check_char
from hpf.ledger import service as ledger
from hpf.ledger.verify import verify
from hpf.main import create_app
from hpf.notices.models import OutboxMessage
from support import channels, staff

PASSWORD = "Passw0rd!x"
TODAY = date(2026, 3, 16)
CARD = "6222021234567890"  # an employer's debit account for dep.remit pay


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at test strength: production's cost (~0.2 s a hash) only slows the suite."""
    monkeypatch.setattr(passwords, "_hasher",
                        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def make_id(n: int, born: date = date(1990, 5, 17), male: bool = True) -> str:
    """A valid ID number, distinct per n."""
    first17 = f"530102{born:%Y%m%d}{(n % 499) * 2 + (1 if male else 0):03d}"
    return first17 + id_check_digit(first17)


def make_uscc(n: int) -> str:
    """A valid unified social credit code, distinct per n."""
    first17 = f"91530100MA{n:07d}"
    return first17 + uscc_check_char(first17)


@dataclass
class City:
    url: str
    client: TestClient
    app: FastAPI
    employer_id: int
    unit_no: str
    _staff: dict = field(default_factory=dict)

    def login(self, kind: str, login_name: str, password: str = PASSWORD) -> dict:
        body = {"kind": kind, "login_name": login_name, "password": password}
        if kind == "staff":
            body["otp"] = staff.totp_code(session_factory(self.url), login_name)
        r = self.client.post("/api/v1/auth/login", json=body)
        assert r.status_code == 200, r.text
        self.client.cookies.clear()
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def staff(self, login_name: str) -> dict:
        """Headers of a staff login (clerk, rev1, rev2), logged in once per test."""
        if login_name not in self._staff:
            self._staff[login_name] = self.login("staff", login_name)
        return self._staff[login_name]

    def forget_logins(self) -> None:
        """Drop cached staff sessions (after moving the clock, they have gone idle)."""
        self._staff.clear()

    def call(self, code: str, params: dict, headers: dict, channel: str = "hall",
             key: str | None = None):
        h = {**headers, "X-HPF-Channel": channel}
        if key:
            h["Idempotency-Key"] = key
        return self.client.post(f"/api/v1/services/{code}", json=params, headers=h)

    def sms_code(self, headers: dict, service: str) -> dict:
        """The headers plus the SMS step-up code of a sensitive service, read from the outbox."""
        r = self.client.post("/api/v1/auth/sms-code/step-up", json={"service": service},
                             headers={**headers, "X-HPF-Channel": "hall"})
        assert r.status_code == 200, r.text
        with transaction(self.url) as s:
            content = s.scalars(select(OutboxMessage.content)
                                .order_by(OutboxMessage.id.desc()).limit(1)).one()
        code = re.search(r"验证码(\d{6})", content).group(1)
        return {**headers, "X-HPF-SMS-Code": code}

    def decide(self, command_id: int, reviewer: str, approve: bool = True,
               reason: str | None = None):
        body: dict = {"approve": approve}
        if reason is not None:
            body["reason"] = reason
        return self.client.post(f"/api/v1/approvals/{command_id}", json=body,
                                headers=self.staff(reviewer))

    def approve(self, response, *reviewers: str) -> dict:
        """Approve a 202 application by each reviewer in turn; the last decision's body."""
        assert response.status_code == 202, response.text
        command_id = int(response.headers["X-Command-Id"])
        body: dict = {}
        for reviewer in reviewers:
            r = self.decide(command_id, reviewer)
            assert r.status_code == 200, r.text
            body = r.json()
        return body

    def person(self, n: int, name: str, born: date = date(1990, 5, 17), male: bool = True) -> str:
        id_number = make_id(n, born, male)
        with transaction(self.url) as s:
            s.add(RegPerson(id_number=id_number, name=name, gender="M" if male else "F",
                            birth_date=id_birth_date(id_number), hukou_city="530100"))
        return id_number

    def open_member(self, headers: dict, n: int, name: str, base_fen: int = 500_000,
                    first_month: int = 202601, **extra) -> str:
        """A member opened through dep.member_open; returns the member number."""
        id_number = self.person(n, name)
        r = self.call("dep.member_open", {"name": name, "id_number": id_number,
                                          "base_fen": base_fen, "first_month": first_month,
                                          **extra}, headers)
        assert r.status_code == 200, r.text
        return r.json()["result"]["member_no"]

    def employer(self, n: int, name: str, operator: str, *, unit_ratio_bps: int = 1200,
                 member_ratio_bps: int = 1200, first_month: int = 202601,
                 paid_through: int | None = 202512) -> str:
        """A second employer (set up directly) with its operator; returns the unit number."""
        with transaction(self.url) as s:
            employer = service.register_employer(
                s, name=name, uscc=make_uscc(n), legal_rep="王五", contact_name="赵六",
                contact_phone="13900002222", address="盘龙区白塔路2号", bank_code="CCB",
                unit_ratio_bps=unit_ratio_bps, member_ratio_bps=member_ratio_bps,
                first_month=first_month)
            employer.paid_through = paid_through
            identity.create_unit_operator(s, employer.id, operator, "赵六", PASSWORD,
                                          "13900002222")
            return employer.unit_no

    def member_login(self, member_no: str) -> dict:
        """Give a member an online login and sign in with it."""
        with transaction(self.url) as s:
            member = s.query(Member).filter_by(member_no=member_no).one()
            identity.create_member_login(s, member.id, PASSWORD)
            id_number = member.id_number
        return self.login("member", id_number)

    def set_paid_through(self, month: int, employer_id: int | None = None) -> None:
        with transaction(self.url) as s:
            s.get(Employer, employer_id or self.employer_id).paid_through = month

    def ledger_ok(self) -> None:
        with transaction(self.url) as s:
            report = verify(s)
            assert report.ok, report.problems


def _city(db_url: str) -> Iterator[City]:
    with clock.frozen(TODAY):
        with transaction(db_url) as s:
            ledger.ensure_chart(s)
            params.seed_defaults(s)
            # Tests ask for several SMS codes within a minute of frozen time.
            params.set_value(s, "otp.resend_interval_s", date(2000, 1, 2), 0)
            identity.create_staff(s, "clerk", "柜员", PASSWORD, {"clerk"})
            identity.create_staff(s, "rev1", "审核一", PASSWORD, {"reviewer"})
            identity.create_staff(s, "rev2", "审核二", PASSWORD, {"approver"})
            identity.create_staff(s, "ops", "渠道运营", PASSWORD, {"channel_operator"})
            s.add(RegEnterprise(uscc="91350100M000100Y43", name="春城科技有限公司"))
            s.flush()
            employer = service.register_employer(
                s, name="春城科技有限公司", uscc="91350100M000100Y43", legal_rep="张三",
                contact_name="李四", contact_phone="13900001111", address="五华区北京路1号",
                bank_code="ICBC", unit_ratio_bps=1200, member_ratio_bps=1200,
                first_month=202601)
            employer.paid_through = 202512
            identity.create_unit_operator(s, employer.id, "unit01", "李四", PASSWORD,
                                          "13900001111")
            eid, unit_no = employer.id, employer.unit_no
        app = create_app(db_url)
        with TestClient(app) as client:
            client.auth = channels.signer()
            yield City(db_url, client, app, eid, unit_no)
        session_factory(db_url).kw["bind"].dispose()


@pytest.fixture
def city(db_url: str) -> Iterator[City]:
    yield from _city(db_url)
