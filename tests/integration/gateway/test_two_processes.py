"""Two app processes sharing one database and one Redis: a session opened on one is valid on
the other (and closed on both by one logout), a channel's flow threshold holds across both,
and a signed request seen by one is a replay to the other."""

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from deposits.conftest import PASSWORD
from sqlalchemy import func, select

from hpf.catalog import params
from hpf.catalog.models import ChannelSetting
from hpf.deposits import service
from hpf.exchange.models import RegEnterprise
from hpf.gateway import signing
from hpf.gateway.models import Command
from hpf.identity import service as identity
from hpf.identity.models import AuthSession
from hpf.kit.db import transaction
from hpf.ledger import service as ledger
from support.appserver import AppServer, app_servers
from support.channels import CREDENTIALS, signer

VISITS_PER_MIN = 6  # on wechat
TX_PER_MIN = 3  # on kiosk
BURST = 10


def _setting(channel: str, **thresholds: int) -> ChannelSetting:
    return ChannelSetting(code=channel, is_open=True, closed_by_rule=False, days="all",
                          auto_close=False, error_rate_bps=5000, error_window_min=5,
                          error_min_calls=20, cooldown_min=10, **thresholds)


def _seed(url: str) -> None:
    """Staff, one employer with its operator (as the deposit tests' city), two thresholds."""
    with transaction(url) as s:
        ledger.ensure_chart(s)
        params.seed_defaults(s)
        identity.create_staff(s, "clerk", "柜员", PASSWORD, {"clerk"})
        s.add(RegEnterprise(uscc="91350100M000100Y43", name="春城科技有限公司"))
        s.flush()
        employer = service.register_employer(
            s, name="春城科技有限公司", uscc="91350100M000100Y43", legal_rep="张三",
            contact_name="李四", contact_phone="13900001111", address="五华区北京路1号",
            bank_code="ICBC", unit_ratio_bps=1200, member_ratio_bps=1200, first_month=202601)
        identity.create_unit_operator(s, employer.id, "unit01", "李四", PASSWORD,
                                      "13900001111")
        s.add(_setting("wechat", visits_per_min=VISITS_PER_MIN))
        s.add(_setting("kiosk", tx_per_min=TX_PER_MIN))


@pytest.fixture
def two_apps(db_url: str, redis_url: str, tmp_path: Path) -> Iterator[tuple[AppServer, ...]]:
    _seed(db_url)
    env = {"HPF_DATABASE_URL": db_url, "HPF_REDIS_URL": redis_url}
    with app_servers(2, env, tmp_path) as servers:
        yield tuple(servers)
    for i, server in enumerate(servers):  # shown by pytest when the test failed
        print(f"--- app process {i} ---\n{server.output()}")


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(auth=signer(), timeout=10) as client:
        yield client


def _quiet_minute(margin_s: float = 6.0) -> None:
    """Return with at least margin_s left in the current minute (fixed windows end on the
    minute, the same in every process), waiting for the next one if need be."""
    left = 60 - time.time() % 60
    if left < margin_s:
        time.sleep(left + 0.05)


def _login(http: httpx.Client, app: AppServer, kind: str, name: str, channel: str) -> dict:
    r = http.post(f"{app.url}/api/v1/auth/login", headers={"X-HPF-Channel": channel},
                  json={"kind": kind, "login_name": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    http.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _code(r: httpx.Response) -> str | None:
    return r.json().get("code") if r.status_code >= 400 else None


def test_two_processes_share_sessions_thresholds_and_nonces(two_apps, http, db_url, redis_url):
    """One pair of processes per engine (starting them is most of the cost)."""
    _session_valid_on_both(*two_apps, http)
    _threshold_holds_across_both(*two_apps, http, db_url, redis_url)
    _replay_refused_by_the_other(*two_apps, db_url)


def _session_valid_on_both(a: AppServer, b: AppServer, http: httpx.Client) -> None:
    app = {"X-HPF-Channel": "app"}
    token = _login(http, a, "unit", "unit01", "app")
    r = http.get(f"{b.url}/api/v1/auth/me", headers={**token, **app})
    assert r.status_code == 200 and r.json()["name"] == "李四", r.text
    r = http.post(f"{b.url}/api/v1/auth/logout", headers={**token, **app})
    assert r.status_code == 200 and r.json() == {"revoked": True}, r.text
    for server in (a, b):
        r = http.get(f"{server.url}/api/v1/auth/me", headers={**token, **app})
        assert (r.status_code, _code(r)) == (401, "SESSION_EXPIRED"), r.text


def _threshold_holds_across_both(a: AppServer, b: AppServer, http: httpx.Client, db_url: str,
                                 redis_url: str) -> None:
    unit = _login(http, a, "unit", "unit01", "hall")

    # Visits: wechat admits VISITS_PER_MIN requests a minute, whichever process gets them.
    _quiet_minute()
    answers = []
    for i in range(BURST):
        server = (a, b)[i % 2]
        r = http.get(f"{server.url}/api/v1/auth/me", headers={**unit, "X-HPF-Channel": "wechat"})
        answers.append(r)
    assert [(r.status_code, _code(r)) for r in answers] == \
        [(200, None)] * VISITS_PER_MIN + [(429, "FLOW_LIMITED")] * (BURST - VISITS_PER_MIN)
    for r in answers[VISITS_PER_MIN:]:
        assert r.json()["message"] == "当前访问人数较多，请稍后再试"
        assert 1 <= int(r.headers["Retry-After"]) <= 60
    # Both processes counted into one Redis counter: every request, admitted or not.
    store = redis.Redis.from_url(redis_url)
    try:
        visits = store.keys("hpf:count:flow:wechat:visit:60:*")
        assert [int(store.get(k)) for k in visits] == [BURST]
    finally:
        store.close()
    # Other channels are unaffected.
    for server in (a, b):
        r = http.get(f"{server.url}/api/v1/auth/me", headers={**unit, "X-HPF-Channel": "app"})
        assert r.status_code == 200, r.text

    # Transactions: the kiosk admits TX_PER_MIN service calls a minute across both.
    with transaction(db_url) as s:
        stored = s.scalar(select(func.count()).select_from(Command))
    _quiet_minute()
    answers = []
    for i in range(BURST):
        server = (b, a)[i % 2]
        r = http.post(f"{server.url}/api/v1/services/q.unit_info", json={},
                      headers={**unit, "X-HPF-Channel": "kiosk"})
        answers.append(r)
    assert [(r.status_code, _code(r)) for r in answers] == \
        [(200, None)] * TX_PER_MIN + [(429, "FLOW_LIMITED")] * (BURST - TX_PER_MIN)
    assert all(1 <= int(r.headers["Retry-After"]) <= 60 for r in answers[TX_PER_MIN:])
    # Refused calls are not stored.
    with transaction(db_url) as s:
        assert s.scalar(select(func.count()).select_from(Command)) == stored + TX_PER_MIN


def _replay_refused_by_the_other(a: AppServer, b: AppServer, db_url: str) -> None:
    client_id, secret = CREDENTIALS["app"]
    body = json.dumps({"kind": "unit", "login_name": "unit01", "password": PASSWORD}).encode()
    path = "/api/v1/auth/login"
    timestamp, nonce = str(int(time.time())), signing.new_nonce()
    headers = {
        "Content-Type": "application/json",
        signing.CLIENT_HEADER: client_id,
        signing.TIMESTAMP_HEADER: timestamp,
        signing.NONCE_HEADER: nonce,
        signing.SIGNATURE_HEADER: signing.sign(secret, "POST", path, body, timestamp, nonce),
    }
    first = httpx.post(f"{a.url}{path}", content=body, headers=headers, timeout=10)
    assert first.status_code == 200, first.text
    with transaction(db_url) as s:
        sessions = s.scalar(select(func.count()).select_from(AuthSession))
    for server in (b, a):
        again = httpx.post(f"{server.url}{path}", content=body, headers=headers, timeout=10)
        assert (again.status_code, _code(again)) == (401, "REPLAYED_REQUEST"), again.text
        assert again.json()["message"] == "重复的请求（随机数已使用）"
    with transaction(db_url) as s:
        assert s.scalar(select(func.count()).select_from(AuthSession)) == sessions
