"""Schemathesis over the whole OpenAPI schema: no request is answered with a 5xx.

The app's own schema (app.openapi()) is fuzzed as it is, with one addition on the test side:
POST /api/v1/services/{code} and POST /api/v1/mgmt/changes/{code} take any object, so random
codes only ever meet UNKNOWN_SERVICE; every implemented service and management change
therefore also gets a concrete operation (/api/v1/services/dep.remit, ...) whose body is its
handler's parameter model. The Idempotency-Key header is narrowed to the 8 to 64 characters the
gateway takes, so positive cases get past that check (negative ones still try the rest).

Every request is signed as a registered channel client signs it (the four X-HPF-* headers over
the exact path, query and body bytes sent), and the whole schema is run four times: without a
login, then as a member, an employer's operator and an administrator (last, so they can approve
what the others left pending). Schemathesis generates positive and negative cases and sends
them in process through its ASGI transport. Positive cases are steered a little: fields naming
something in the city (member_no, unit_no, id_number, uscc, service, channel, command_id) take
one of the seeded city's real values half the time; now and then an integer goes to the 64-bit
edges and a string gets a NUL character, which random data practically never does and which
the databases refuse (SQLite past 64 bits, PostgreSQL both). The test runs on both engines
(db_url), as their refusals differ.

A 5xx is collected, never raised: one run reports every failing operation with the request,
the response and the server's traceback. HPF_FUZZ_SEED=<n> repeats a run (the seed is in the
report); HPF_FUZZ_EXAMPLES=<n> sets the positive examples per operation (negative: a quarter).
"""

import copy
import os
import random
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
import requests
import schemathesis
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from sqlalchemy import select

from hpf.catalog import domain as catalog
from hpf.catalog import params
from hpf.demo.seed import DEMO_PASSWORD, seed_city
from hpf.deposits.models import Employer, Member
from hpf.exchange.models import RegEnterprise, RegPerson
from hpf.gateway import registry, signing
from hpf.gateway.models import Command
from hpf.identity import passwords
from hpf.identity.models import UserAccount
from hpf.kit.db import session_factory, transaction
from hpf.kit.ids import id_check_digit, uscc_check_char
from hpf.main import create_app
from support import channels
from support.staff import totp_code

pytestmark = pytest.mark.slow

POSITIVE_EXAMPLES = int(os.environ.get("HPF_FUZZ_EXAMPLES", "12"))
NEGATIVE_EXAMPLES = max(1, POSITIVE_EXAMPLES // 4)
IDENTITIES = ("anonymous", "member", "unit", "staff")
SERVICES = "/api/v1/services/{code}"
CHANGES = "/api/v1/mgmt/changes/{code}"
LOGOUT = "POST /api/v1/auth/logout"
EDGE_INTS = [0, -1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 10**30]
# Refusals that mean the harness signs or logs in wrongly, not that the app misbehaves.
HARNESS_CODES = {"CLIENT_REQUIRED", "BAD_SIGNATURE", "UNKNOWN_CLIENT", "CLIENT_REVOKED",
                 "STALE_REQUEST", "REPLAYED_REQUEST", "CHANNEL_MISMATCH"}
LOGIN_CODES = {"LOGIN_REQUIRED", "SESSION_EXPIRED"}
# Headers the harness adds to every request; left out of the report.
NOISE_HEADERS = {"user-agent", "accept", "accept-encoding", "connection", "content-length",
                 "x-schemathesis-testcaseid", *(h.lower() for h in (
                     signing.CLIENT_HEADER, signing.TIMESTAMP_HEADER, signing.NONCE_HEADER,
                     signing.SIGNATURE_HEADER))}


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Argon2 at test strength: the login operation is fuzzed too, and each unknown login name
    burns one verification."""
    monkeypatch.setattr(passwords, "_hasher",
                        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    passwords._dummy_hash.cache_clear()
    yield
    passwords._dummy_hash.cache_clear()


# --- signing and the app as the fuzzer sees it -----------------------------------------------

class SignedAsChannelClient(requests.auth.AuthBase):
    """hpf.channels.api.signer.ChannelSigner for requests (schemathesis' transport): signs the
    prepared request, with its final body and its path and query as they go on the wire, as the
    test client of the channel named in X-HPF-Channel."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        client_id, secret = channels.CREDENTIALS[request.headers.get("X-HPF-Channel", "hall")]
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        timestamp, nonce = str(int(time.time())), signing.new_nonce()
        request.headers[signing.CLIENT_HEADER] = client_id
        request.headers[signing.TIMESTAMP_HEADER] = timestamp
        request.headers[signing.NONCE_HEADER] = nonce
        request.headers[signing.SIGNATURE_HEADER] = signing.sign(
            secret, request.method, request.path_url, body, timestamp, nonce)
        return request


class Recorder:
    """The app behind an ASGI wrapper that keeps an unexpected exception's traceback and
    answers with the 500 the app already sent (TestClient(raise_server_exceptions=False))."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.error: str | None = None

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        started = False

        async def watch(message) -> None:  # noqa: ANN001
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            if scope["type"] != "http":
                raise
            self.error = traceback.format_exc()
            if not started:
                await send({"type": "http.response.start", "status": 500, "headers": []})
                await send({"type": "http.response.body", "body": b"(no response)"})


# --- the city and the logins -----------------------------------------------------------------

@dataclass
class City:
    url: str
    values: dict[str, list]  # field name -> real values, offered to positive cases
    logins: dict[str, tuple[str, str]]  # identity -> (kind, login name)

    def pending(self) -> list[int]:
        with session_factory(self.url)() as s:
            return list(s.scalars(select(Command.id).where(Command.status == "pending")))


def _seed(url: str) -> City:
    seed_city(url, members=50, seed=3, years=1)
    with transaction(url) as s:
        # The fuzzer's failed logins all come from one address: without this the captcha
        # (tested on its own) would stand between every identity and its session.
        params.set_value(s, "auth.captcha_after_failures", date(2000, 1, 2), 20)
        params.set_value(s, "auth.captcha_after_ip_failures", date(2000, 1, 2), 1000)
        # People and enterprises on the registries but not yet in the fund: what opening a
        # member account and registering an employer look up.
        for n in range(3):
            first17 = f"53010219{85 + n:02d}0612{n * 2 + 1:03d}"
            s.add(RegPerson(id_number=first17 + id_check_digit(first17), name=f"新职工{n}",
                            gender="M", birth_date=date(1985 + n, 6, 12), hukou_city="530100"))
            body = f"91530100MA{9_000_000 + n:07d}"
            s.add(RegEnterprise(uscc=body + uscc_check_char(body), name=f"模糊测试有限公司{n}"))
        s.flush()
        unit = s.scalars(select(UserAccount).where(UserAccount.kind == "unit")
                         .order_by(UserAccount.id)).first()
        member = s.scalars(select(UserAccount).where(UserAccount.kind == "member")
                           .order_by(UserAccount.id)).first()
        members = list(s.scalars(select(Member).order_by(Member.id)))
        own = [m for m in members if m.employer_id == unit.employer_id][:6]
        unit_nos = sorted(s.scalars(select(Employer.unit_no)))
        new_people = s.scalars(select(RegPerson.id_number).where(RegPerson.name.like("新职工%")))
        values = {
            "member_no": sorted({m.member_no for m in members[:4] + own}),
            "unit_no": unit_nos, "to_unit_no": unit_nos,
            "id_number": sorted({m.id_number for m in members[:4]} | set(new_people)),
            "uscc": sorted(s.scalars(select(RegEnterprise.uscc))),
            "service": sorted(catalog.load()), "channel": sorted(catalog.CHANNELS),
        }
        # A member's account stores only the ID number's blind index: sign in with the number.
        member_id_number = s.get(Member, member.member_id).id_number
        logins = {"member": ("member", member_id_number), "unit": ("unit", unit.login_name),
                  "staff": ("staff", "admin")}
    return City(url, values, logins)


@dataclass
class Identity:
    name: str
    token: str | None = None

    def channel(self, service: catalog.Service | None) -> str:
        """Staff work at the counter, everyone else in the online hall (or on the service's
        first channel when it is not offered there)."""
        offered = service.channels if service else ()
        preferred = "counter" if self.name == "staff" else "hall"
        return preferred if not offered or preferred in offered else offered[0]

    def login(self, app: Any, city: City) -> None:
        if self.name == "anonymous":
            return
        kind, login_name = city.logins[self.name]
        body = {"kind": kind, "login_name": login_name, "password": DEMO_PASSWORD}
        if kind == "staff":
            body["otp"] = totp_code(session_factory(city.url), login_name)
        client = TestClient(app)
        client.auth = channels.signer()
        r = client.post("/api/v1/auth/login", json=body,
                        headers={"X-HPF-Channel": self.channel(None)})
        assert r.status_code == 200, r.text
        self.token = r.json()["token"]


# --- the schema under test -------------------------------------------------------------------

def _concrete(template: dict, body_model: type, components: dict, code: str) -> dict:
    """The {code} operation for one code: no path parameter, the body the code's parameters."""
    op = copy.deepcopy(template)
    op["parameters"] = [p for p in op.get("parameters", [])
                        if not (p["in"] == "path" and p["name"] == "code")]
    prefix = code.replace(".", "_") + "__"
    body = body_model.model_json_schema(ref_template=f"#/components/schemas/{prefix}{{model}}")
    for name, definition in body.pop("$defs", {}).items():
        components[prefix + name] = definition
    op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    op["operationId"] = f"fuzz_{prefix}"
    op["summary"] = code
    return op


def fuzz_schema(app: Any) -> dict:
    """app.openapi() plus one operation per implemented service and management change."""
    spec = copy.deepcopy(app.openapi())
    components = spec.setdefault("components", {}).setdefault("schemas", {})
    paths = spec["paths"]
    for code in sorted(registry.implemented()):
        params = registry.get(code).params
        if registry.management(code) is not None:
            paths[CHANGES.replace("{code}", code)] = {
                "post": _concrete(paths[CHANGES]["post"], params, components, code)}
        elif catalog.get(code) is not None:
            paths[SERVICES.replace("{code}", code)] = {
                "post": _concrete(paths[SERVICES]["post"], params, components, code)}
    for item in paths.values():
        for op in item.values():
            for param in op.get("parameters", []):
                if param["name"] == "idempotency-key":
                    param["schema"] = {"type": "string", "minLength": 8, "maxLength": 64}
    return spec


def _operations(spec: dict, app: Recorder) -> list:
    schema = schemathesis.openapi.from_dict(spec)
    schema.app = app
    operations = [result.ok() for result in schema.get_all_operations()]
    # Logout revokes the token all later requests of the identity present: it goes last.
    return sorted(operations, key=lambda op: op.label == LOGOUT)


def _body_fields(spec: dict, op) -> set[str]:  # noqa: ANN001
    """Top-level properties of an operation's JSON body (optional ones included)."""
    body = spec["paths"][op.path][op.method.lower()].get("requestBody", {})
    schema = body.get("content", {}).get("application/json", {}).get("schema", {})
    return set(schema.get("properties", {}))


def _steer(fields: dict, optional: set[str], values: dict[str, list], data) -> None:  # noqa: ANN001
    """Half the time, a field naming a city object takes a real value (optional ones may be
    added); one integer in ten goes to an edge, one string in ten gets a NUL character."""
    for name in sorted((set(fields) | optional) & set(values)):
        if data.draw(st.booleans()):
            fields[name] = data.draw(st.sampled_from(values[name]))
    if "member_nos" in fields and data.draw(st.booleans()):
        fields["member_nos"] = data.draw(
            st.lists(st.sampled_from(values["member_no"]), min_size=1, max_size=3))
    for name, value in list(fields.items()):
        if type(value) is int and data.draw(st.integers(0, 9)) == 0:
            fields[name] = data.draw(st.sampled_from(EDGE_INTS))
        elif type(value) is str and data.draw(st.integers(0, 9)) == 0:
            fields[name] = value + "\x00"  # valid JSON; PostgreSQL text refuses it


# --- running and reporting -------------------------------------------------------------------

@dataclass
class Failure:
    identity: str
    operation: str
    request: str
    status: int
    body: str
    error: str | None
    count: int = 0
    identities: set[str] = field(default_factory=set)

    def key(self) -> tuple:
        """Same operation, status and place of the error: the same failure."""
        where = None
        if self.error:
            lines = [line.strip() for line in self.error.splitlines()]
            frames = [line for line in lines if line.startswith("File ") and "/hpf/" in line]
            where = (frames[-1] if frames else None, lines[-1])
        return self.operation, self.status, where

    def render(self) -> str:
        who = ", ".join(sorted(self.identities, key=IDENTITIES.index))
        text = (f"{self.operation} -> {self.status} (x{self.count}; as {who})\n"
                f"  request as {self.identity}: {self.request}\n"
                f"  response: {self.body[:400]}")
        if self.error:
            # The app's own frames and the exception: where to look in src/.
            lines = self.error.rstrip().splitlines()
            frames = [f"{line.strip()}  |  {lines[i + 1].strip()}" for i, line in enumerate(lines)
                      if line.strip().startswith("File ") and "/hpf/" in line and i + 1 < len(lines)]
            raised = [line for line in lines if line[:1].isalpha() and ": " in line]
            text += "\n  " + "\n  ".join(frames[-6:] + raised[-1:])
        return text


def _describe(request: requests.PreparedRequest) -> str:
    headers = {k: v for k, v in request.headers.items() if k.lower() not in NOISE_HEADERS}
    if "Authorization" in headers:
        headers["Authorization"] = "Bearer <token>"
    body = request.body or b""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "backslashreplace")
    return f"{request.method} {request.path_url} headers={headers} body={body[:600]!r}"


def _error_code(response) -> str | None:  # noqa: ANN001
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


@dataclass
class Run:
    app: Recorder
    spec: dict
    seed: int
    session: requests.Session = field(default_factory=requests.Session)
    found: dict[tuple, Failure] = field(default_factory=dict)
    statuses: Counter = field(default_factory=Counter)
    harness: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.session.auth = SignedAsChannelClient()

    def operation(self, op, identity: Identity, values: dict[str, list]) -> None:  # noqa: ANN001
        """Fuzz one operation as one identity (positive, then negative cases)."""
        service = catalog.get(op.path.rsplit("/", 1)[-1]) if op.path.startswith(
            "/api/v1/services/") else None
        headers = {"X-HPF-Channel": identity.channel(service)}
        if identity.token:
            headers["Authorization"] = f"Bearer {identity.token}"
        optional = _body_fields(self.spec, op)

        def call(case, data, steer: bool) -> None:  # noqa: ANN001
            if steer:
                for container in (case.path_parameters, case.query):
                    if isinstance(container, dict):
                        _steer(container, set(), values, data)
                if isinstance(case.body, dict):
                    _steer(case.body, optional, values, data)
            self.app.error = None
            response = case.call(session=self.session, headers=dict(headers))
            self.check(identity, op, response)

        def each(steer: bool):  # noqa: ANN202
            def test(case, data) -> None:  # noqa: ANN001
                call(case, data, steer)
            return test

        for mode, examples in ((GenerationMode.POSITIVE, POSITIVE_EXAMPLES),
                               (GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)):
            steer = mode is GenerationMode.POSITIVE
            # Collected, not raised: no shrinking, and every operation gets its whole run.
            test = settings(max_examples=examples, deadline=None, database=None,
                            phases=[Phase.explicit, Phase.generate],
                            suppress_health_check=list(HealthCheck))(
                given(case=op.as_strategy(generation_mode=mode), data=st.data())(each(steer)))
            try:
                seed(self.seed)(test)()
            except Unsatisfiable:
                # Nothing to get wrong in an operation without parameters (GET /auth/me).
                if steer:
                    raise

    def check(self, identity: Identity, op, response) -> None:  # noqa: ANN001
        code = _error_code(response) if response.status_code >= 400 else None
        self.statuses[identity.name, response.status_code // 100 * 100] += 1
        if code in HARNESS_CODES or (identity.token and code in LOGIN_CODES
                                     and op.label != LOGOUT):
            self.harness.append(f"[{identity.name}] {op.label} -> {response.status_code} "
                                f"{code}: {_describe(response.request)}")
        if response.status_code < 500 and self.app.error is None:
            return
        failure = Failure(identity.name, op.label, _describe(response.request),
                          response.status_code, response.content.decode("utf-8", "replace"),
                          self.app.error)
        failure = self.found.setdefault(failure.key(), failure)
        failure.count += 1
        failure.identities.add(identity.name)


def test_no_operation_answers_a_server_error(db_url):
    run_seed = int(os.environ.get("HPF_FUZZ_SEED") or random.randrange(2**32))
    city = _seed(db_url)
    app = Recorder(create_app(db_url))
    spec = fuzz_schema(app.app)
    operations = _operations(spec, app)
    run = Run(app, spec, run_seed)
    started = time.monotonic()
    for name in IDENTITIES:
        identity = Identity(name)
        identity.login(app.app, city)
        values = {**city.values, "command_id": city.pending() + EDGE_INTS}
        for op in operations:
            run.operation(op, identity, values)
    summary = (f"{sum(run.statuses.values())} requests in {time.monotonic() - started:.0f} s, "
               f"HPF_FUZZ_SEED={run_seed}; by identity and status: "
               f"{dict(sorted(run.statuses.items()))}")
    if run.harness:
        pytest.fail("the harness is broken:\n" + "\n".join(run.harness[:20]), pytrace=False)
    for name in IDENTITIES:  # every identity got past the door: some of its calls succeeded
        assert run.statuses[name, 200] > 0, summary
    if run.found:
        report = "\n\n".join(f.render() for f in run.found.values())
        pytest.fail(f"{len(run.found)} distinct server errors ({summary}):\n\n{report}",
                    pytrace=False)
