"""GET /api/v1/services and the refusals of the HTTP channel."""

from fastapi.testclient import TestClient

from hpf.main import create_app
from support import channels


def test_catalogue_endpoint_and_refusals(sqlite_url):
    with TestClient(create_app(sqlite_url)) as client:
        body = client.get("/api/v1/services").json()
        codes = {s["code"]: s for s in body["items"]}
        assert codes["dep.remit"]["available"] is True
        assert codes["dep.interest_settle"]["available"] is True  # a backend job
        assert codes["loan.apply"]["available"] is False
        assert body["channels"]["wechat"] == "微信公众号"
        # Everything but the catalogue needs a registered client's signature.
        r = client.post("/api/v1/services/q.unit_info", json={})
        assert r.status_code == 401 and r.json()["code"] == "CLIENT_REQUIRED"
        client.auth = channels.signer()
        r = client.post("/api/v1/services/loan.apply", json={})
        assert r.status_code == 404 and r.json()["code"] == "SERVICE_NOT_AVAILABLE"
        assert "贷款受理" in r.json()["message"]
        r = client.post("/api/v1/services/no.such", json={})
        assert r.status_code == 404 and r.json()["code"] == "UNKNOWN_SERVICE"
        r = client.post("/api/v1/services/q.unit_info", json={})
        assert r.status_code == 401 and r.json()["code"] == "LOGIN_REQUIRED"
        r = client.post("/api/v1/services/q.unit_info", json={},
                        headers={"X-HPF-Channel": "fax"})
        assert r.status_code == 403 and r.json()["code"] == "CHANNEL_MISMATCH"
        r = client.post("/api/v1/services/q.unit_info", content=b"x" * (3 * 1024 * 1024),
                        headers={"content-type": "application/json"})
        assert r.status_code == 413 and r.json()["code"] == "PAYLOAD_TOO_LARGE"
        home = client.get("/")
        assert home.status_code == 200 and "住房公积金综合服务平台" in home.text
        assert client.get("/nowhere").json()["code"] == "HTTP_404"
