"""A small city for deposit tests: chart, parameters, staff, one employer and its operator."""

from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient

from hpf.catalog import params
from hpf.deposits import service
from hpf.exchange.models import RegEnterprise, RegPerson
from hpf.identity import service as identity
from hpf.kit import clock
from hpf.kit.db import session_factory, transaction
from hpf.kit.ids import id_birth_date, id_check_digit
from hpf.ledger import service as ledger
from hpf.main import create_app

PASSWORD = "Passw0rd!x"
TODAY = date(2026, 3, 16)


def make_id(n: int, born: date = date(1990, 5, 17), male: bool = True) -> str:
    """A valid ID number, distinct per n."""
    first17 = f"530102{born:%Y%m%d}{(n % 499) * 2 + (1 if male else 0):03d}"
    return first17 + id_check_digit(first17)


@dataclass
class City:
    url: str
    client: TestClient
    employer_id: int
    unit_no: str

    def login(self, kind: str, login_name: str, password: str = PASSWORD) -> dict:
        r = self.client.post("/api/v1/auth/login",
                             json={"kind": kind, "login_name": login_name, "password": password})
        assert r.status_code == 200, r.text
        self.client.cookies.clear()
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def call(self, code: str, params: dict, headers: dict, channel: str = "hall",
             key: str | None = None):
        h = {**headers, "X-HPF-Channel": channel}
        if key:
            h["Idempotency-Key"] = key
        return self.client.post(f"/api/v1/services/{code}", json=params, headers=h)

    def person(self, n: int, name: str, born: date = date(1990, 5, 17), male: bool = True) -> str:
        id_number = make_id(n, born, male)
        with transaction(self.url) as s:
            s.add(RegPerson(id_number=id_number, name=name, gender="M" if male else "F",
                            birth_date=id_birth_date(id_number), hukou_city="530100"))
        return id_number


@pytest.fixture
def city(db_url: str):
    with clock.frozen(TODAY):
        with transaction(db_url) as s:
            ledger.ensure_chart(s)
            params.seed_defaults(s)
            identity.create_staff(s, "clerk", "柜员", PASSWORD, {"clerk"})
            identity.create_staff(s, "rev1", "审核一", PASSWORD, {"reviewer"})
            identity.create_staff(s, "rev2", "审核二", PASSWORD, {"approver"})
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
            yield City(db_url, client, eid, unit_no)
        session_factory(db_url).kw["bind"].dispose()
