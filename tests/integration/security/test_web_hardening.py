"""Web hardening of the API: security headers on every answer, no cache of personal data,
oversized bodies refused by their declared length, no stack trace in a 500."""

from fastapi.testclient import TestClient

from hpf.gateway import registry
from support import channels


def test_security_headers_and_no_store(city):
    r = city.client.get("/api/v1/services")
    assert r.status_code == 200
    for name, value in {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
                        "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}.items():
        assert r.headers[name] == value, name
    assert "geolocation=()" in r.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in r.headers  # plain HTTP on loopback
    with TestClient(city.app, base_url="https://testserver") as tls:
        assert tls.get("/api/v1/services").headers["Strict-Transport-Security"] == \
            "max-age=31536000"
    # Pages are not personal data; their caching is left alone.
    home = city.client.get("/")
    assert home.headers["X-Frame-Options"] == "DENY" and "Cache-Control" not in home.headers


def test_oversized_bodies_and_unexpected_errors_say_little(city, monkeypatch):
    big = b"{" + b" " * (3 * 1024 * 1024) + b"}"
    r = city.client.post("/api/v1/auth/login", content=big,
                         headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "PAYLOAD_TOO_LARGE"
    handler = registry.get("q.unit_info")

    def broken(ctx, params):
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setitem(registry._handlers, "q.unit_info",
                        registry.Handler("q.unit_info", handler.params, broken))
    unit = city.login("unit", "unit01")
    with TestClient(city.app, raise_server_exceptions=False) as client:
        client.auth = channels.signer()
        r = client.post("/api/v1/services/q.unit_info", json={},
                        headers={**unit, "X-HPF-Channel": "hall"})
    assert r.status_code == 500 and r.json() == {"code": "INTERNAL_ERROR",
                                                 "message": "系统繁忙，请稍后再试"}
    assert "hunter2" not in r.text and "Traceback" not in r.text
