"""A database restart under pooled connections: the call that meets a dead connection answers
503 DATABASE_RECONNECTING (no stack trace), the pool renews itself, and the next call works."""

import pytest
from deposits.conftest import _city
from fastapi.testclient import TestClient
from sqlalchemy import text

from hpf.kit.db import transaction
from support import channels


@pytest.mark.pg
def test_dead_connections_answer_503_once_then_the_pool_recovers(pg_url):
    for city in _city(pg_url):
        unit = city.login("unit", "unit01")
        with TestClient(city.app, raise_server_exceptions=False) as client:
            client.auth = channels.signer()
            headers = {**unit, "X-HPF-Channel": "hall"}
            for _ in range(3):  # fill the pool with connections that are about to die
                assert client.post("/api/v1/services/q.unit_info", json={},
                                   headers=headers).status_code == 200
            with transaction(pg_url) as s:
                killed = s.execute(text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
            assert killed >= 1
            answers = [client.post("/api/v1/services/q.unit_info", json={}, headers=headers)
                       for _ in range(4)]
            # The first call meets a dead connection (without a pre-ping nobody tested it);
            # its failure renews the pool, so every later call works.
            first = answers[0]
            assert first.status_code == 503, first.text
            assert first.json() == {"code": "DATABASE_RECONNECTING",
                                    "message": "系统繁忙，请稍后重试"}
            assert first.headers["Retry-After"] == "1"
            assert [r.status_code for r in answers[1:]] == [200, 200, 200]
