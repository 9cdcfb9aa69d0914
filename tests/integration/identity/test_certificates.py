"""Operator digital certificates: the centre's CA issues and revokes them, operators sign a
server challenge to log in; every refusal is a 4xx with a code, recorded, and nothing else."""

import base64
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from idn_support import STAFF_PASSWORD, UNIT_PASSWORD, login
from sqlalchemy import func, select
from typer.testing import CliRunner

from hpf.audit import service as audit
from hpf.audit.models import AuditRecord
from hpf.catalog import params
from hpf.channels.api import certificates as cert_api
from hpf.gateway.principal import SYSTEM, Principal
from hpf.identity import ca, certificates, passwords, service
from hpf.identity.cert_models import LoginChallenge, OperatorCertificate
from hpf.identity.models import AuthSession, LoginEvent, UserAccount
from hpf.kit import clock
from hpf.kit.errors import Forbidden, HpfError
from support import channels

CHALLENGE = "/api/v1/auth/certificate/challenge"
LOGIN = "/api/v1/auth/certificate/login"
MGMT = "/api/v1/mgmt/certificates"


@pytest.fixture
def app(app):
    app.include_router(cert_api.router)
    return app


@pytest.fixture
def admin_token(client, staff_and_unit) -> str:
    r = login(client, "staff", "admin01", STAFF_PASSWORD)
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return r.json()["token"]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _issue_via_api(client, admin_token, login_name="unit.op1", kind="unit", **extra):
    key = ca.new_key()
    r = client.post(MGMT, headers=_bearer(admin_token),
                    json={"kind": kind, "login_name": login_name,
                          "csr_pem": ca.make_csr(key, login_name), **extra})
    assert r.status_code == 201, r.text
    return key, r.json()


def _issue(factory, login_name="unit.op1", kind="unit", valid_days=365):
    """Issued by the system (as `hpf cert issue` does): the key pair made by the centre."""
    with factory() as s, s.begin():
        issued = certificates.issue_certificate(s, SYSTEM, kind, login_name,
                                                valid_days=valid_days)
    return ca.load_key(issued.private_key_pem), issued.certificate_pem, issued.record.serial


def _challenge(client, login_name="unit.op1", kind="unit") -> dict:
    r = client.post(CHALLENGE, json={"kind": kind, "login_name": login_name})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["expires_in_s"] == 120
    return body


def _sign(key, challenge: dict) -> str:
    return base64.b64encode(ca.sign(key, base64.b64decode(challenge["challenge"]))).decode()


def _cert_login(client, key, cert_pem, login_name="unit.op1", kind="unit", *, challenge=None,
                signature=None):
    challenge = challenge or _challenge(client, login_name, kind)
    return client.post(LOGIN, json={
        "challenge_id": challenge["challenge_id"], "certificate_pem": cert_pem,
        "signature": signature if signature is not None else _sign(key, challenge)})


def _refused(r, status, code):
    assert r.status_code == status and r.json()["code"] == code, r.text
    assert r.json()["message"]  # a Chinese message for the operator


def _counts(factory) -> dict[str, int]:
    with factory() as s:
        def count(model, *where):
            return s.scalar(select(func.count()).select_from(model).where(*where)) or 0
        return {
            "sessions": count(AuthSession),
            "failures": count(LoginEvent, LoginEvent.outcome == "failure"),
            "certs": count(OperatorCertificate),
        }


def _unit_user(factory, login_name="unit.op1") -> UserAccount:
    with factory() as s:
        return s.scalars(select(UserAccount).where(UserAccount.login_name == login_name)).one()


def test_issue_from_a_csr_and_log_in_with_the_key_the_operator_kept(
        client, factory, admin_token, staff_and_unit):
    key, issued = _issue_via_api(client, admin_token)
    leaf = x509.load_pem_x509_certificate(issued["certificate_pem"].encode())
    assert leaf.public_key().public_numbers() == key.public_key().public_numbers()
    assert issued["serial"] == f"{leaf.serial_number:x}" and "unit:unit.op1" in issued["subject"]
    assert "BEGIN CERTIFICATE" in issued["ca_certificate_pem"]

    r = _cert_login(client, key, issued["certificate_pem"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in_s"] > 0
    assert body["principal"]["kind"] == "unit"
    assert body["principal"]["user_id"] == staff_and_unit["unit"]
    assert body["principal"]["employer_id"] is not None
    assert client.cookies.get("hpf_session") == body["token"]
    client.cookies.clear()
    me = client.get("/api/v1/auth/me", headers=_bearer(body["token"]))
    assert me.status_code == 200 and me.json()["user_id"] == staff_and_unit["unit"]

    listed = client.get(MGMT, headers=_bearer(admin_token), params={"login_name": "unit.op1"})
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert item["serial"] == issued["serial"] and item["status"] == "active"
    assert item["kind"] == "unit" and item["display_name"] == "经办人乙"

    with factory() as s:
        events = {(r.event, r.outcome): r for r in s.scalars(select(AuditRecord))}
        assert events[("cert.issue", "success")].actor_name == "管理员"
        assert events[("cert.issue", "success")].target == issued["serial"]
        login_record = [r for r in s.scalars(select(AuditRecord).where(
            AuditRecord.event == "login", AuditRecord.actor_kind == "unit"))]
        assert len(login_record) == 1 and '"method": "certificate"' in login_record[0].detail
        assert audit.verify(s).ok
        success = s.scalars(select(LoginEvent).where(LoginEvent.outcome == "success",
                                                     LoginEvent.kind == "unit")).one()
        assert success.user_id == staff_and_unit["unit"]


def test_a_challenge_is_single_use_and_short_lived(client, factory, staff_and_unit):
    key, pem, _ = _issue(factory)
    challenge = _challenge(client)
    assert _cert_login(client, key, pem, challenge=challenge).status_code == 200
    before = _counts(factory)
    _refused(_cert_login(client, key, pem, challenge=challenge), 401, "CHALLENGE_USED")
    assert _counts(factory)["sessions"] == before["sessions"]

    # A failed attempt spends the challenge too: one try per challenge.
    challenge = _challenge(client)
    _refused(_cert_login(client, key, pem, challenge=challenge, signature="AAAA"), 401,
             "BAD_CHALLENGE_SIGNATURE")
    _refused(_cert_login(client, key, pem, challenge=challenge), 401, "CHALLENGE_USED")

    challenge = _challenge(client)
    with clock.frozen(clock.now() + timedelta(seconds=121)):
        _refused(_cert_login(client, key, pem, challenge=challenge), 401, "CHALLENGE_EXPIRED")

    for unknown in ("no-such-challenge-00000", "x", "'; drop table --", "a" * 64):
        _refused(_cert_login(client, key, pem, challenge={"challenge_id": unknown,
                                                          "challenge": ""}, signature="AAAA"),
                 401, "CHALLENGE_UNKNOWN")

    # The signed bytes name the challenge and the account: a signature of one challenge does
    # not open another.
    first, second = _challenge(client), _challenge(client)
    _refused(_cert_login(client, key, pem, challenge=second, signature=_sign(key, first)), 401,
             "BAD_CHALLENGE_SIGNATURE")
    text = base64.b64decode(first["challenge"]).decode()
    assert text.splitlines()[:4] == ["HPF-CERT-LOGIN/1", first["challenge_id"], "unit",
                                     "unit.op1"]


def test_each_refusal_is_a_coded_4xx_recorded_and_nothing_else(
        client, factory, staff_and_unit, world):
    key, pem, _ = _issue(factory)
    with factory() as s, s.begin():
        service.create_unit_operator(s, world.employer_id, "unit.op2", "经办人丙", UNIT_PASSWORD)
        params.set_value(s, "auth.max_failures", clock.today(), 100)  # count, do not lock
    other_key, other_pem, _ = _issue(factory, "unit.op2")

    foreign_key, foreign_root = ca.build_root(certificates.CA_COMMON_NAME,
                                              certificates.CENTRE_NAME, clock.now())
    foreign_leaf = ca.issue_leaf(foreign_key, foreign_root, key.public_key(),
                                 common_name="经办人乙", organization=certificates.CENTRE_NAME,
                                 unit="单位经办人", user_id="unit:unit.op1", now=clock.now(),
                                 valid_days=30)
    self_key = ca.new_key()
    self_made = (x509.CertificateBuilder()
                 .subject_name(foreign_root.subject).issuer_name(foreign_root.subject)
                 .public_key(self_key.public_key()).serial_number(7)
                 .not_valid_before(clock.now() - timedelta(days=1))
                 .not_valid_after(clock.now() + timedelta(days=1))
                 .sign(self_key, hashes.SHA256()))
    with factory() as s:
        root_pem = certificates.root_certificate_pem(s)

    cases = [
        (dict(key=foreign_key, cert_pem=ca.cert_pem(foreign_leaf)), 401,
         "CERT_NOT_ISSUED_BY_CENTRE"),
        (dict(key=self_key, cert_pem=ca.cert_pem(self_made)), 401, "CERT_NOT_ISSUED_BY_CENTRE"),
        (dict(key=key, cert_pem=root_pem), 401, "CERT_WRONG_USAGE"),
        (dict(key=other_key, cert_pem=other_pem), 401, "CERT_NOT_YOURS"),
        (dict(key=other_key, cert_pem=pem), 401, "BAD_CHALLENGE_SIGNATURE"),
        (dict(key=key, cert_pem=pem, signature="!!not base64!!"), 401,
         "BAD_CHALLENGE_SIGNATURE"),
    ]
    for kwargs, status, code in cases:
        before = _counts(factory)
        _refused(_cert_login(client, **kwargs), status, code)
        after = _counts(factory)
        assert after == {**before, "failures": before["failures"] + 1}, code
        with factory() as s:
            event = s.scalars(select(LoginEvent).order_by(LoginEvent.id.desc())).first()
            assert event.reason == code and event.kind == "unit"
            assert event.user_id == staff_and_unit["unit"]
    assert _unit_user(factory).failed_count == len(cases)

    # An unknown login name gets a challenge like any other, then CERT_NOT_YOURS.
    _refused(_cert_login(client, key, pem, "nobody.here"), 401, "CERT_NOT_YOURS")
    # Only operators have certificates.
    for kind in ("member", "staff", "nobody"):
        r = client.post(CHALLENGE, json={"kind": kind, "login_name": "admin01"})
        _refused(r, 422, "INVALID_INPUT")


def test_validity_period_is_checked(client, factory, staff_and_unit):
    key, pem, _ = _issue(factory, valid_days=1)
    with clock.frozen(clock.now() + timedelta(days=1, minutes=1)):
        _refused(_cert_login(client, key, pem), 401, "CERT_EXPIRED")
    with clock.frozen(clock.now() - timedelta(hours=1)):
        _refused(_cert_login(client, key, pem), 401, "CERT_NOT_YET_VALID")
    assert _cert_login(client, key, pem).status_code == 200


def test_malformed_certificates(client, factory, staff_and_unit):
    key, pem, _ = _issue(factory)
    with factory() as s, s.begin():
        root_pem = certificates.root_certificate_pem(s)
        params.set_value(s, "auth.max_failures", clock.today(), 100)  # count, do not lock
    lines = pem.strip().splitlines()
    variants = {
        "truncated": "\n".join(lines[:-3] + lines[-1:]),
        "cut short": pem[: len(pem) // 2],
        "random bytes": base64.b64encode(bytes(range(200))).decode(),
        "chain of two": pem + root_pem,
        "over 8 KiB": pem + "\n" * (9 * 1024),
        "private key": ca.key_pem(key),
        "not PEM at all": "MIIB" * 50,
    }
    for label, text in variants.items():
        r = _cert_login(client, key, text)
        assert r.status_code == 422 and r.json()["code"] == "MALFORMED_CERTIFICATE", label
    # Past the field's limit the schema refuses it; past the body limit, the server does.
    _refused(_cert_login(client, key, pem + " " * (70 * 1024)), 422, "INVALID_INPUT")
    huge = client.post(LOGIN, content=b"{" + b" " * (3 * 1024 * 1024) + b"}",
                       headers={"content-type": "application/json"})
    assert 400 <= huge.status_code < 500
    assert _counts(factory)["sessions"] == 0


def test_revoked_certificates_are_refused_and_their_sessions_end(
        client, factory, admin_token, staff_and_unit):
    key, issued = _issue_via_api(client, admin_token)
    pem, serial = issued["certificate_pem"], issued["serial"]
    token = _cert_login(client, key, pem).json()["token"]
    client.cookies.clear()

    r = client.post(f"{MGMT}/{serial.upper()}/revoke", headers=_bearer(admin_token),
                    json={"reason": "经办人离职"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "revoked" and r.json()["reason"] == "经办人离职"
    _refused(client.get("/api/v1/auth/me", headers=_bearer(token)), 401, "SESSION_EXPIRED")
    _refused(_cert_login(client, key, pem), 401, "CERT_REVOKED")

    _refused(client.post(f"{MGMT}/{serial}/revoke", headers=_bearer(admin_token),
                         json={"reason": "again"}), 409, "CERT_ALREADY_REVOKED")
    for unknown in ("ffff", "not-hex", "0" * 41):
        _refused(client.post(f"{MGMT}/{unknown}/revoke", headers=_bearer(admin_token),
                             json={"reason": "x"}), 404, "CERT_NOT_FOUND")
    _refused(client.post(f"{MGMT}/{serial}/revoke", headers=_bearer(admin_token),
                         json={"reason": ""}), 422, "INVALID_INPUT")
    revoked = client.get(MGMT, headers=_bearer(admin_token), params={"status": "revoked"})
    assert [i["serial"] for i in revoked.json()["items"]] == [serial]

    with factory() as s:
        record = s.scalars(select(AuditRecord).where(AuditRecord.event == "cert.revoke")).one()
        assert record.actor_name == "管理员" and record.target == serial
        assert "经办人离职" in record.detail
        row = s.scalars(select(OperatorCertificate)).one()
        assert row.revoked_by == staff_and_unit["admin"]
        assert audit.verify(s).ok


def test_only_administrators_issue_and_revoke(client, factory, admin_token, staff_and_unit):
    csr = ca.make_csr(ca.new_key(), "unit.op1")
    body = {"kind": "unit", "login_name": "unit.op1", "csr_pem": csr}
    clerk = login(client, "staff", "clerk01", STAFF_PASSWORD).json()["token"]
    client.cookies.clear()
    operator = login(client, "unit", "unit.op1", UNIT_PASSWORD).json()["token"]
    client.cookies.clear()
    _refused(client.post(MGMT, headers=_bearer(clerk), json=body), 403, "ROLE_REQUIRED")
    _refused(client.get(MGMT, headers=_bearer(clerk)), 403, "ROLE_REQUIRED")
    _refused(client.post(MGMT, headers=_bearer(operator), json=body), 403, "STAFF_ONLY")
    _refused(client.post(MGMT, json=body), 401, "LOGIN_REQUIRED")
    _refused(client.post(f"{MGMT}/ab/revoke", headers=_bearer(clerk), json={"reason": "x"}),
             403, "ROLE_REQUIRED")
    assert _counts(factory)["certs"] == 0

    clerk_principal = Principal(kind="staff", user_id=staff_and_unit["clerk"], name="柜员甲",
                                roles=frozenset({"clerk", "reviewer"}))
    with factory() as s, s.begin(), pytest.raises(Forbidden):
        certificates.issue_certificate(s, clerk_principal, "unit", "unit.op1")

    # Bad requests from an administrator: still refused with a code, nothing issued.
    bad = [({**body, "csr_pem": "junk"}, 422, "INVALID_CSR"),
           ({**body, "login_name": "nobody.here"}, 404, "USER_NOT_FOUND"),
           ({**body, "kind": "member"}, 422, "INVALID_INPUT"),
           ({**body, "valid_days": 0}, 422, "INVALID_INPUT")]
    for payload, status, code in bad:
        _refused(client.post(MGMT, headers=_bearer(admin_token), json=payload), status, code)
    assert _counts(factory)["certs"] == 0
    with factory() as s, s.begin(), pytest.raises(HpfError) as caught:
        certificates.issue_certificate(s, SYSTEM, "member", "x")
    assert caught.value.code == "CERT_KIND_NOT_ALLOWED"


def test_certificate_failures_count_towards_the_lockout(client, factory, staff_and_unit):
    key, pem, _ = _issue(factory)
    for _ in range(4):
        _refused(_cert_login(client, key, pem, signature="AAAA"), 401, "BAD_CHALLENGE_SIGNATURE")
    _refused(_cert_login(client, key, pem, signature="AAAA"), 423, "ACCOUNT_LOCKED")
    _refused(_cert_login(client, key, pem), 423, "ACCOUNT_LOCKED")
    with clock.frozen(clock.now() + timedelta(minutes=16)):
        assert _cert_login(client, key, pem).status_code == 200
    assert _unit_user(factory).failed_count == 0


def test_a_centre_may_require_certificates_of_operators(client, factory, staff_and_unit):
    key, pem, _ = _issue(factory)
    assert login(client, "unit", "unit.op1", UNIT_PASSWORD).status_code == 200
    with factory() as s, s.begin():
        params.set_value(s, "identity.operator_certificate_required", clock.today(), True)
    _refused(login(client, "unit", "unit.op1", UNIT_PASSWORD), 403, "CERTIFICATE_REQUIRED")
    _refused(login(client, "developer", "no.such.dev", "whatever1"), 403,
             "CERTIFICATE_REQUIRED")
    assert _cert_login(client, key, pem).status_code == 200
    # Staff and members are not concerned.
    assert login(client, "staff", "admin01", STAFF_PASSWORD).status_code == 200


def test_developer_operators_get_certificates_too(client, factory, staff_and_unit):
    with factory() as s, s.begin():
        s.add(UserAccount(kind="developer", login_name="dev.op1", display_name="开发企业经办人丁",
                          password_hash=passwords.hash_password("Dev2024pw"), roles="",
                          status="active", failed_count=0, created_at=clock.now()))
    key, pem, _ = _issue(factory, "dev.op1", "developer")
    r = _cert_login(client, key, pem, "dev.op1", "developer")
    assert r.status_code == 200 and r.json()["principal"]["kind"] == "developer"
    # The same login name as a unit operator is another account: not this certificate's.
    _refused(_cert_login(client, key, pem, "dev.op1", "unit"), 401, "CERT_NOT_YOURS")


def test_old_challenges_are_purged(client, factory, staff_and_unit):
    _challenge(client)
    with clock.frozen(clock.now() + timedelta(hours=2)):
        _challenge(client)
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(LoginChallenge)) == 1


def test_the_cli_issues_lists_and_revokes(db_url, client, factory, staff_and_unit, tmp_path):
    from hpf.cli import app as cli

    runner = CliRunner()
    result = runner.invoke(cli, ["cert", "issue", "unit.op1", "--kind", "unit", "--out",
                                 str(tmp_path)])
    assert result.exit_code == 0, result.output
    key = ca.load_key((tmp_path / "key.pem").read_text())
    pem = (tmp_path / "cert.pem").read_text()
    assert (tmp_path / "key.pem").stat().st_mode & 0o077 == 0
    challenge = _challenge(client)
    signed = runner.invoke(cli, ["cert", "sign", challenge["challenge"], "--key",
                                 str(tmp_path / "key.pem")])
    assert signed.exit_code == 0, signed.output
    r = _cert_login(client, key, pem, challenge=challenge, signature=signed.output.strip())
    assert r.status_code == 200, r.text

    result = runner.invoke(cli, ["cert", "list"])
    assert result.exit_code == 0 and "unit.op1" in result.output
    serial = ca.serial_text(x509.load_pem_x509_certificate(pem.encode()))
    result = runner.invoke(cli, ["cert", "revoke", serial, "--reason", "测试注销"])
    assert result.exit_code == 0, result.output
    _refused(_cert_login(client, key, pem), 401, "CERT_REVOKED")
    result = runner.invoke(cli, ["cert", "revoke", serial, "--reason", "again"])
    assert result.exit_code == 1 and "CERT_ALREADY_REVOKED" in result.output
    result = runner.invoke(cli, ["cert", "issue", "nobody.here", "--kind", "unit"])
    assert result.exit_code == 1 and "USER_NOT_FOUND" in result.output
    with factory() as s:
        rows = list(s.scalars(select(AuditRecord).where(AuditRecord.event.like("cert.%"))))
        assert {(r.event, r.actor_kind) for r in rows} == {("cert.issue", "system"),
                                                          ("cert.revoke", "system")}


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                max_size=300)


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_input_is_refused_with_a_4xx(client, factory, admin_token, data):
    """Whatever arrives at the certificate endpoints, the answer is a coded 4xx, never a 5xx."""
    pem = data.draw(st.one_of(_text, st.just("-----BEGIN CERTIFICATE-----\n")
                              .map(lambda head: head + "MII" + "A" * 40 + "\n-----END CERTIFICATE-----")))
    requests = [
        (CHALLENGE, {"kind": data.draw(st.sampled_from(["unit", "developer", "member", ""])),
                     "login_name": data.draw(_text)}),
        (LOGIN, {"challenge_id": data.draw(_text), "certificate_pem": pem,
                 "signature": data.draw(_text)}),
        (f"{MGMT}/{quote(data.draw(_text), safe='') or 'x'}/revoke",
         {"reason": data.draw(_text)}),
        (MGMT, {"kind": "unit", "login_name": "unit.op1", "csr_pem": data.draw(_text),
                "valid_days": data.draw(st.integers(-2**70, 2**70))}),
    ]
    for path, body in requests:
        r = client.post(path, json=body, headers=_bearer(admin_token))
        assert 400 <= r.status_code < 500 or r.status_code == 200, (path, body, r.text)
        assert r.json()["code"] if r.status_code >= 400 else True


def test_one_challenge_sent_six_times_at_once_opens_one_session(app, client, factory,
                                                                 staff_and_unit):
    key, pem, _ = _issue(factory)
    challenge = _challenge(client)
    body = {"challenge_id": challenge["challenge_id"], "certificate_pem": pem,
            "signature": _sign(key, challenge)}
    barrier = Barrier(6)

    def attempt(_i: int):
        with TestClient(app) as own:  # no shared cookie jar or connection between threads
            own.auth = channels.signer()
            barrier.wait()
            r = own.post(LOGIN, json=body)
            return r.status_code, r.json().get("code")

    with ThreadPoolExecutor(6) as pool:
        answers = sorted(pool.map(attempt, range(6)), key=str)
    assert answers == sorted([(200, None)] + [(401, "CHALLENGE_USED")] * 5, key=str), answers
    assert _counts(factory)["sessions"] == 1
