"""Signed requests at the gateway: every refusal is a 4xx with its code and Chinese message and
writes nothing; a channel's visit and transaction thresholds refuse with 429 and Retry-After.

Requests are built by hand (hpf.gateway.signing.sign over the wire format) and sent with a
TestClient that adds nothing, so each tamper is explicit.
"""

import hashlib
import hmac
import json
import time
from types import SimpleNamespace

import pytest
from deposits.conftest import PASSWORD
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hpf.audit.models import AuditRecord
from hpf.gateway import clients, flow, signing
from hpf.gateway.models import Command
from hpf.identity.models import AuthSession, LoginEvent
from hpf.kit.counters import MemoryCounters
from hpf.kit.db import transaction
from support.channels import CREDENTIALS

SERVICE = "/api/v1/services/q.unit_info"  # offered on hall and kiosk; every call is stored
LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"
JSON = {"Content-Type": "application/json"}

MESSAGES = {
    "CLIENT_REQUIRED": "请求须由已登记的渠道终端签名",
    "BAD_SIGNATURE": "请求签名无效",
    "UNKNOWN_CLIENT": "未登记的渠道终端",
    "CLIENT_REVOKED": "该渠道终端已停用",
    "STALE_REQUEST": "请求时间戳已过期，请校准时间后重试",
    "REPLAYED_REQUEST": "重复的请求（随机数已使用）",
    "CHANNEL_MISMATCH": "终端与所报渠道不符",
    "FLOW_LIMITED": "当前访问人数较多，请稍后再试",
}
MALFORMED = "签名参数格式有误"  # BAD_SIGNATURE for headers that cannot be a signature


# --- building requests by hand ---------------------------------------------------------------

def sign_headers(method: str, path_and_query: str, body: bytes = b"", *, channel: str = "hall",
                 client_id: str | None = None, secret: str | None = None,
                 timestamp: str | None = None, nonce: str | None = None) -> dict:
    """The four signature headers, as the test client of `channel` would compute them."""
    own_id, own_secret = CREDENTIALS[channel]
    timestamp = str(int(time.time())) if timestamp is None else timestamp
    nonce = signing.new_nonce() if nonce is None else nonce
    return {
        signing.CLIENT_HEADER: own_id if client_id is None else client_id,
        signing.TIMESTAMP_HEADER: timestamp,
        signing.NONCE_HEADER: nonce,
        signing.SIGNATURE_HEADER: signing.sign(secret or own_secret, method, path_and_query,
                                               body, timestamp, nonce),
    }


def send(raw: TestClient, method: str, path_and_query: str, body: bytes, headers: dict):
    """Send exactly these bytes and headers (no auth flow, no cookies)."""
    raw.cookies.clear()
    return raw.request(method, path_and_query, content=body, headers={**JSON, **headers})


def refused(r, status: int, code: str, message: str | None = None) -> dict:
    assert (r.status_code, r.json().get("code")) == (status, code), r.text
    assert r.json()["message"] == (message or MESSAGES[code]), r.text
    return r.json()


def writes(url: str) -> dict:
    """Row counts of every table a request past the signature check would write to."""
    with transaction(url) as s:
        return {model.__tablename__: s.scalar(select(func.count()).select_from(model))
                for model in (Command, AuthSession, LoginEvent, AuditRecord)}


def login_body(kind: str = "unit", name: str = "unit01") -> bytes:
    return json.dumps({"kind": kind, "login_name": name, "password": PASSWORD}).encode()


@pytest.fixture
def raw(city):
    """A client of the same app that signs nothing by itself."""
    return TestClient(city.app)


# --- the wire format -------------------------------------------------------------------------

def test_signature_is_hmac_sha256_of_the_canonical_lines():
    body = '{"name":"张三"}'.encode()  # hashed as the UTF-8 bytes sent
    text = ("POST\n/api/v1/services/q.unit_info?x=1&y=2\n"
            + hashlib.sha256(body).hexdigest() + "\n1767225600\nAbCdEfGhIjKlMnOp_-12")
    expected = hmac.new(b"s3cret-key", text.encode(), hashlib.sha256).hexdigest()
    assert signing.string_to_sign("post", "/api/v1/services/q.unit_info?x=1&y=2", body,
                                  "1767225600", "AbCdEfGhIjKlMnOp_-12") == text
    assert signing.sign("s3cret-key", "post", "/api/v1/services/q.unit_info?x=1&y=2", body,
                        "1767225600", "AbCdEfGhIjKlMnOp_-12") == expected
    # An empty body hashes as the SHA-256 of nothing.
    assert signing.string_to_sign("GET", "/p", b"", "1", "n" * 16).split("\n")[2] == \
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert signing.matches("s3cret-key", expected.upper(), "POST",
                           "/api/v1/services/q.unit_info?x=1&y=2", body, "1767225600",
                           "AbCdEfGhIjKlMnOp_-12")
    assert not signing.matches("s3cret-key", expected, "POST",
                               "/api/v1/services/q.unit_info?x=1&y=3", body, "1767225600",
                               "AbCdEfGhIjKlMnOp_-12")
    assert (signing.CLIENT_HEADER, signing.TIMESTAMP_HEADER, signing.NONCE_HEADER,
            signing.SIGNATURE_HEADER) == ("X-HPF-Client", "X-HPF-Timestamp", "X-HPF-Nonce",
                                          "X-HPF-Signature")
    assert (signing.MAX_SKEW_S, signing.NONCE_TTL_S) == (300, 600)


def test_a_superscript_digit_timestamp_is_stale_not_an_error():
    # Headers are decoded as latin-1, so the byte 0xB2 arrives as "²" and, through a real
    # server, became a 500 INTERNAL_ERROR instead of 401 STALE_REQUEST.
    assert signing.fresh("\u00b2", 0) is False
    assert signing.fresh("\u00b9\u00b2\u00b3", 0) is False


# --- refusals --------------------------------------------------------------------------------

def test_a_good_signature_is_accepted_and_the_catalogue_is_public(city, raw):
    r = raw.get("/api/v1/services")  # no signature at all
    assert r.status_code == 200, r.text
    r = send(raw, "POST", LOGIN, login_body(), sign_headers("POST", LOGIN, login_body()))
    assert r.status_code == 200, r.text
    token = {"Authorization": f"Bearer {r.json()['token']}"}
    before = writes(city.url)
    # The query is part of what is signed, as sent.
    path = SERVICE + "?lang=zh&v=1"
    r = send(raw, "POST", path, b"{}", {**token, **sign_headers("POST", path, b"{}")})
    assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text
    assert writes(city.url)["gateway_command"] == before["gateway_command"] + 1
    r = send(raw, "GET", ME, b"", {**token, **sign_headers("GET", ME)})
    assert r.status_code == 200 and r.json()["kind"] == "unit", r.text


def test_each_bad_signature_is_refused_with_its_reason_and_writes_nothing(city, raw):
    token = city.login("unit", "unit01")
    body = b"{}"
    good = sign_headers("POST", SERVICE, body)
    before = writes(city.url)

    def call(headers, path=SERVICE, content=body):
        return send(raw, "POST", path, content, {**token, **headers})

    # Unsigned, or missing any one of the four headers.
    refused(call({}), 401, "CLIENT_REQUIRED")
    for name in good:
        refused(call({k: v for k, v in good.items() if k != name}), 401, "CLIENT_REQUIRED")
    # A signature that is not the client's.
    wrong = sign_headers("POST", SERVICE, body, secret="test-secret-hall-WRONG-0123456789")
    refused(call(wrong), 401, "BAD_SIGNATURE")
    # Signed by another registered client's secret under this client's id.
    refused(call(sign_headers("POST", SERVICE, body, secret=CREDENTIALS["app"][1])), 401,
            "BAD_SIGNATURE")
    # The body changed after signing (same length, then longer).
    refused(call(sign_headers("POST", SERVICE, b"{}"), content=b"[]"), 401, "BAD_SIGNATURE")
    refused(call(sign_headers("POST", SERVICE, b"{}"), content=b'{"unit_no": "x"}'), 401,
            "BAD_SIGNATURE")
    # The query string changed, added or dropped after signing.
    refused(call(sign_headers("POST", SERVICE + "?v=1", body), path=SERVICE + "?v=2"), 401,
            "BAD_SIGNATURE")
    refused(call(sign_headers("POST", SERVICE, body), path=SERVICE + "?v=1"), 401,
            "BAD_SIGNATURE")
    refused(call(sign_headers("POST", SERVICE + "?v=1", body)), 401, "BAD_SIGNATURE")
    # The path or the method changed.
    other = "/api/v1/services/q.member_account"
    refused(call(sign_headers("POST", other, body)), 401, "BAD_SIGNATURE")
    refused(call(sign_headers("PUT", SERVICE, body)), 401, "BAD_SIGNATURE")
    # The timestamp or the nonce changed after signing.
    tampered = {**good, signing.TIMESTAMP_HEADER: str(int(good[signing.TIMESTAMP_HEADER]) - 1)}
    refused(call(tampered), 401, "BAD_SIGNATURE")
    refused(call({**good, signing.NONCE_HEADER: signing.new_nonce()}), 401, "BAD_SIGNATURE")
    # Headers that cannot be a signature at all.
    for name, value in [(signing.NONCE_HEADER, "short-nonce-15c"),  # 15 < 16 characters
                        (signing.NONCE_HEADER, "x" * 65),
                        (signing.NONCE_HEADER, "has space in it!!"),
                        (signing.SIGNATURE_HEADER, "not-hex"),
                        (signing.SIGNATURE_HEADER, good[signing.SIGNATURE_HEADER][:63]),
                        (signing.SIGNATURE_HEADER, good[signing.SIGNATURE_HEADER] + "0"),
                        (signing.SIGNATURE_HEADER, "g" * 64),
                        (signing.CLIENT_HEADER, "TEST-HALL"),
                        (signing.CLIENT_HEADER, "x")]:
        headers = sign_headers("POST", SERVICE, body)
        headers[name] = value
        refused(call(headers), 401, "BAD_SIGNATURE", MALFORMED)
    # A well-formed id nobody registered.
    refused(call(sign_headers("POST", SERVICE, body, client_id="test-nobody")), 401,
            "UNKNOWN_CLIENT")
    # A non-numeric timestamp (checked before the signature).
    for stamp in ("abc", "-1", "1.7e9", str(int(time.time())) + ".5", "9" * 13):
        refused(call(sign_headers("POST", SERVICE, body, timestamp=stamp)), 401,
                "STALE_REQUEST")

    assert writes(city.url) == before
    # The untampered request itself was never spent: it still goes through.
    r = call(good)
    assert r.status_code == 200, r.text
    assert writes(city.url)["gateway_command"] == before["gateway_command"] + 1


def test_a_timestamp_more_than_300_seconds_off_is_stale(city, raw, monkeypatch):
    token = city.login("unit", "unit01")
    now = 1_800_000_000  # the server's clock, from here on
    monkeypatch.setattr(clients, "time", SimpleNamespace(time=lambda: now))
    before = writes(city.url)

    def call(offset):
        headers = sign_headers("POST", SERVICE, b"{}", timestamp=str(now + offset))
        return send(raw, "POST", SERVICE, b"{}", {**token, **headers})

    refused(call(-301), 401, "STALE_REQUEST")
    refused(call(+301), 401, "STALE_REQUEST")
    refused(call(-86_400), 401, "STALE_REQUEST")
    assert writes(city.url) == before
    # Within the skew, either way, is accepted.
    for offset in (-300, 0, 300):
        assert call(offset).status_code == 200


def test_the_same_signed_request_twice_is_a_replay(city, raw):
    body = login_body()
    headers = sign_headers("POST", LOGIN, body)
    first = send(raw, "POST", LOGIN, body, headers)
    assert first.status_code == 200, first.text
    before = writes(city.url)
    refused(send(raw, "POST", LOGIN, body, headers), 401, "REPLAYED_REQUEST")
    # The nonce is spent whatever the rest says: re-signed with it, still a replay.
    again = sign_headers("POST", LOGIN, body, nonce=headers[signing.NONCE_HEADER])
    refused(send(raw, "POST", LOGIN, body, again), 401, "REPLAYED_REQUEST")
    assert writes(city.url) == before
    # Nonces are per client: another client may use the same one.
    other = sign_headers("POST", LOGIN, body, channel="app", nonce=headers[signing.NONCE_HEADER])
    assert send(raw, "POST", LOGIN, body, other).status_code == 200


def test_a_revoked_client_is_refused(city, raw):
    body = login_body()
    assert send(raw, "POST", LOGIN, body,
                sign_headers("POST", LOGIN, body, channel="app")).status_code == 200
    with transaction(city.url) as s:
        clients.revoke(s, "test-app")
    before = writes(city.url)
    refused(send(raw, "POST", LOGIN, body, sign_headers("POST", LOGIN, body, channel="app")),
            401, "CLIENT_REVOKED")
    assert writes(city.url) == before
    # Other clients carry on.
    assert send(raw, "POST", LOGIN, body,
                sign_headers("POST", LOGIN, body, channel="wechat")).status_code == 200


def test_a_client_cannot_claim_another_channel(city, raw):
    body = login_body()
    before = writes(city.url)
    headers = {**sign_headers("POST", LOGIN, body, channel="app"), "X-HPF-Channel": "kiosk"}
    r = refused(send(raw, "POST", LOGIN, body, headers), 403, "CHANNEL_MISMATCH")
    assert r["details"] == {"channel": "kiosk", "client_channel": "app"}
    assert writes(city.url) == before
    headers = {**sign_headers("POST", LOGIN, body, channel="app"), "X-HPF-Channel": "app"}
    r = send(raw, "POST", LOGIN, body, headers)
    assert r.status_code == 200, r.text
    # The session is the signing client's channel's.
    with transaction(city.url) as s:
        latest = s.scalars(select(AuthSession).order_by(AuthSession.id.desc())).first()
        assert latest.channel == "app"


# --- flow thresholds -------------------------------------------------------------------------

def _apply(city, code, params):
    """Make a management change as the channel operator; approve it as the approver."""
    r = city.client.post(f"/api/v1/mgmt/changes/{code}", json=params,
                         headers={**city.staff("ops"), "X-HPF-Channel": "counter"})
    assert r.status_code == 202, r.text
    body = city.decide(r.json()["command_id"], "rev2").json()
    assert body["status"] == "succeeded", body


@pytest.fixture
def frozen_counters(monkeypatch):
    """Flow counters on a clock the test moves, so no window ends mid-test."""
    now = [1_800_000_000 + 17.5]  # 17.5 s into a minute; 42.5 s of it left
    counters = MemoryCounters(clock=lambda: now[0])
    monkeypatch.setattr(flow, "counters", lambda: counters)
    return now


def test_visits_past_the_minute_threshold_get_429_with_retry_after(city, frozen_counters):
    _apply(city, "mgmt.channel_settings", {"channel": "kiosk", "visits_per_min": 5})
    kiosk = {"X-HPF-Channel": "kiosk"}
    for _ in range(5):
        r = city.client.get(ME, headers=kiosk)
        refused(r, 401, "LOGIN_REQUIRED", "请先登录")  # admitted, then routed
    r = city.client.get(ME, headers=kiosk)
    body = refused(r, 429, "FLOW_LIMITED")
    assert body["details"] == {"retry_after_s": 43, "channel": "kiosk"}
    assert r.headers["Retry-After"] == "43"
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    # A login is a visit too: refused before it can run.
    before = writes(city.url)
    r = city.client.post(LOGIN, json={"kind": "unit", "login_name": "unit01",
                                      "password": PASSWORD}, headers=kiosk)
    refused(r, 429, "FLOW_LIMITED")
    assert writes(city.url) == before
    # Other channels are unaffected.
    for channel in ("hall", "app", "wechat"):
        refused(city.client.get(ME, headers={"X-HPF-Channel": channel}), 401, "LOGIN_REQUIRED",
                "请先登录")
    # The next minute starts afresh.
    frozen_counters[0] += 43
    refused(city.client.get(ME, headers=kiosk), 401, "LOGIN_REQUIRED", "请先登录")


def test_service_calls_past_the_tx_threshold_get_429_and_are_not_stored(city, frozen_counters):
    _apply(city, "mgmt.channel_settings", {"channel": "kiosk", "tx_per_min": 2})
    unit = city.login("unit", "unit01")
    for _ in range(2):
        r = city.call("q.unit_info", {}, unit, channel="kiosk")
        assert r.status_code == 200, r.text
    before = writes(city.url)
    r = city.call("q.unit_info", {}, unit, channel="kiosk")
    refused(r, 429, "FLOW_LIMITED")
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert writes(city.url) == before
    # Visits are not transactions: the kiosk still answers other requests.
    assert city.client.get(ME, headers={**unit, "X-HPF-Channel": "kiosk"}).status_code == 200
    # Another channel is unaffected; the kiosk's next minute is.
    assert city.call("q.unit_info", {}, unit, channel="hall").status_code == 200
    frozen_counters[0] += 60
    assert city.call("q.unit_info", {}, unit, channel="kiosk").status_code == 200


def test_nul_characters_and_out_of_range_ids_are_refused_not_errors(city):
    """Found by the schema fuzzer: both were 500s (PostgreSQL refuses NUL in text; an id past
    64 bits overflowed both engines)."""
    unit = city.login("unit", "unit01")
    for r in (
        city.client.post("/api/v1/auth/login", json={"kind": "unit", "login_name": "a\u0000",
                                                     "password": "x"}),
        city.call("dep.member_change", {"address": "五华区\u0000"}, unit),
        city.client.get("/api/v1/approvals", params={"prefix": "\u0000"},
                        headers=city.staff("rev1")),
    ):
        assert r.status_code == 422 and r.json()["code"] == "INVALID_CHARACTERS", r.text
    r = city.client.post("/api/v1/approvals/9223372036854775808", json={"approve": True},
                         headers=city.staff("rev2"))
    assert r.status_code == 422, r.text
    r = city.client.post("/api/v1/approvals/9223372036854775807", json={"approve": True},
                         headers=city.staff("rev2"))
    assert r.status_code == 404 and r.json()["code"] == "NO_APPLICATION", r.text
