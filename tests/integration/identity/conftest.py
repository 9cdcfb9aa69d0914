"""Identity fixtures: a migrated database (both engines, `db_url`), a few people on record, and
a small app with the auth router and two probe endpoints."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Annotated

import pytest
from argon2 import PasswordHasher
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from idn_support import ID18, NAME, OTHER_ID, PHONE, STAFF_PASSWORD, UNIT_PASSWORD
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from hpf.catalog import params
from hpf.channels.api import auth
from hpf.channels.api.deps import DbSession, RequiredPrincipal, require_staff
from hpf.channels.api.signed import SignedRequests
from hpf.deposits.models import Employer, Member
from hpf.gateway.principal import Principal
from hpf.identity import passwords, service
from hpf.identity.errors import BadCredentials
from hpf.identity.models import LoginEvent
from hpf.kit import db
from hpf.kit.errors import HpfError
from hpf.ledger import service as ledger
from support import channels


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at test strength: production's cost (~0.2 s a hash here) only slows the suite."""
    monkeypatch.setattr(passwords, "_hasher",
                        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@dataclass
class World:
    employer_id: int
    member_id: int
    other_member_id: int


@pytest.fixture
def factory(db_url: str) -> sessionmaker[Session]:
    return db.session_factory(db_url)


@pytest.fixture
def world(factory: sessionmaker[Session]) -> World:
    with factory() as session, session.begin():
        ledger.ensure_chart(session)
        employer = Employer(unit_no="U0001", name="昆明测试有限公司", status="01", bank_code="ICBC",
                            unit_ratio_bps=1200, member_ratio_bps=1200, first_month=202001,
                            registered_on=date(2020, 1, 1))
        session.add(employer)
        session.flush()

        def member(no: str, name: str, id_number: str, phone: str | None) -> Member:
            account = ledger.open_account(session, "2010", name, owner_kind="member",
                                          opened_on=date(2020, 1, 1))
            row = Member(member_no=no, name=name, id_number=id_number, gender="F",
                         birth_date=date(1999, 7, 24), retire_group="F55", phone=phone,
                         employer_id=employer.id, status="01", base_fen=500_000,
                         unit_ratio_bps=1200, member_ratio_bps=1200, account_id=account.id,
                         opened_on=date(2020, 1, 1), first_month=202001)
            session.add(row)
            session.flush()
            return row

        # These tests count password failures up to the lockout; the picture captcha that
        # normally steps in after two of them has its own tests (integration/security).
        params.set_value(session, "auth.captcha_after_failures", date(2000, 1, 2), 20)
        params.set_value(session, "auth.captcha_after_ip_failures", date(2000, 1, 2), 1000)
        first = member("M0001", NAME, ID18, PHONE)
        second = member("M0002", "张伟", OTHER_ID, "13800001234")
        return World(employer.id, first.id, second.id)


def _probe_routes(app: FastAPI) -> None:
    """Endpoints exercising the dependencies the way business endpoints will."""

    @app.get("/t/staff/approver")
    def approver_only(p: Annotated[Principal, Depends(require_staff("approver"))]) -> dict:
        return {"user_id": p.user_id}

    @app.post("/t/db-and-principal")
    def both(request: Request, db_session: DbSession, p: RequiredPrincipal) -> dict:
        # A write plus a keep_writes refusal: the write must survive.
        db_session.add(LoginEvent(user_id=p.user_id, login_name="probe", kind=p.kind,
                                  channel="hall", outcome="failure", reason="PROBE",
                                  created_at=service.clock.now()))
        db_session.flush()
        if request.query_params.get("fail") == "keep":
            raise BadCredentials()
        if request.query_params.get("fail") == "plain":
            raise HpfError("probe", code="PROBE")
        return {"ok": True}


@pytest.fixture
def app(factory: sessionmaker[Session], world: World) -> FastAPI:
    app = FastAPI()
    app.state.session_factory = factory
    app.add_middleware(SignedRequests, max_body_bytes=2 * 1024 * 1024)

    @app.exception_handler(HpfError)
    async def on_error(_request: Request, exc: HpfError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"code": "INVALID_INPUT", "message": "请求参数有误"},
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # As hpf.main does: a route that does not exist is a coded 404 too.
        return JSONResponse({"code": f"HTTP_{exc.status_code}", "message": "请求无效"},
                            status_code=exc.status_code)

    app.include_router(auth.router)
    _probe_routes(app)
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        c.auth = channels.signer()
        yield c


@pytest.fixture
def make_client(app: FastAPI) -> Iterator:
    """Fresh clients (own cookie jars)."""
    clients: list[TestClient] = []

    def make() -> TestClient:
        c = TestClient(app)
        c.auth = channels.signer()
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def staff_and_unit(factory: sessionmaker[Session], world: World) -> dict[str, int]:
    with factory() as session, session.begin():
        admin = service.create_staff(session, "admin01", "管理员", STAFF_PASSWORD, {"admin"})
        clerk = service.create_staff(session, "clerk01", "柜员甲", STAFF_PASSWORD,
                                     {"clerk", "reviewer"})
        unit = service.create_unit_operator(session, world.employer_id, "unit.op1", "经办人乙",
                                            UNIT_PASSWORD, phone="13700001111")
        return {"admin": admin.id, "clerk": clerk.id, "unit": unit.id}
