"""The console tests' city: the deposit tests' staff (clerk, rev1, rev2, ops) plus an auditor
and an administrator, and a browser-like client per staff member (cookies, CSRF token)."""

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from deposits.conftest import PASSWORD, City, _city, cheap_argon2  # noqa: F401 (autouse here too)
from fastapi.testclient import TestClient

from hpf.identity import service as identity
from hpf.kit.db import session_factory, transaction
from support import staff

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


@dataclass
class Desk:
    """One staff member's browser on the console."""

    client: TestClient
    csrf: str

    def get(self, path: str, **params):
        return self.client.get(f"/console{path}", params=params or None)

    def post(self, path: str, data: dict | None = None, *, csrf: str | None = "same",
             headers: dict | None = None):
        data = dict(data or {})
        if csrf == "same":
            data["csrf_token"] = self.csrf
        elif csrf is not None:
            data["csrf_token"] = csrf
        return self.client.post(f"/console{path}", data=data, headers=headers or {},
                                follow_redirects=False)


def login_form(client: TestClient, login_name: str, password: str, otp: str):
    """Open the login page (for its CSRF cookie and token) and sign in."""
    page = client.get("/console/login")
    token = CSRF.search(page.text).group(1)
    return client.post("/console/login", data={
        "csrf_token": token, "login_name": login_name, "password": password, "otp": otp},
        follow_redirects=False)


@dataclass
class ConsoleCity:
    city: City

    @property
    def url(self) -> str:
        return self.city.url

    def browser(self) -> TestClient:
        return TestClient(self.city.app, base_url="http://testserver")

    def desk(self, login_name: str) -> Desk:
        """A signed-in console session of a staff member."""
        client = self.browser()
        code = staff.totp_code(session_factory(self.url), login_name)
        r = login_form(client, login_name, PASSWORD, code)
        assert r.status_code == 303, r.text
        home = client.get("/console")
        assert home.status_code == 200, home.text
        return Desk(client, CSRF.search(home.text).group(1))


@pytest.fixture
def console(db_url: str) -> Iterator[ConsoleCity]:
    for city in _city(db_url):
        with transaction(db_url) as s:
            identity.create_staff(s, "audit1", "审计员", PASSWORD, {"auditor"})
            identity.create_staff(s, "boss", "管理员", PASSWORD, {"admin"})
        yield ConsoleCity(city)
