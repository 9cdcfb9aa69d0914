"""Operator digital certificates (数字证书): the centre's CA, issuing, revoking, and login by
signing a server challenge.

Employer (unit) and developer operators may sign in with a certificate the centre's own CA
issued them. The operator asks for a challenge, signs its bytes with the private key of the
certificate (ECDSA-SHA256, DER) and sends the certificate with the signature; a session is then
opened by the same code as a password login (`service.start_session`).

A challenge admits one attempt, whatever its outcome. Refusals of a login carry `keep_writes`:
the login event, the audit record, the spent challenge and (for a known account) one more
failure towards the lockout are committed, nothing else.

Services flush and never commit.
"""

import base64
import binascii
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hpf.audit import service as audit
from hpf.gateway.principal import Principal
from hpf.identity import ca, cert_repository, repository
from hpf.identity import service as identity
from hpf.identity.cert_models import CertificateAuthority, LoginChallenge, OperatorCertificate
from hpf.identity.errors import AccountDisabled
from hpf.identity.models import LoginEvent, UserAccount
from hpf.kit import clock
from hpf.kit.crypto import decrypt_or_refuse, field_cipher
from hpf.kit.errors import Conflict, Forbidden, HpfError, InvalidInput, NotFound, Unauthorized

CA_LABEL = "root"
CA_KEY_CONTEXT = "idn_cert_authority.private_key"
CENTRE_NAME = "住房公积金管理中心"
CA_COMMON_NAME = "住房公积金管理中心操作员证书根CA"
CERT_KINDS = ("unit", "developer")
KIND_NAMES = {"unit": "单位经办人", "developer": "开发企业经办人"}
CHALLENGE_TTL_S = 120
# Challenges are deleted this long after they expired (a replay then reads CHALLENGE_UNKNOWN).
CHALLENGE_KEEP_S = 3600
CHALLENGE_PREFIX = "HPF-CERT-LOGIN/1"
DEFAULT_VALID_DAYS = 365
MAX_VALID_DAYS = 5 * 365
MAX_ACTIVE_PER_USER = 5
MAX_REASON_CHARS = 200
MAX_LIST = 200
# A DER ECDSA P-256 signature is at most 72 bytes; 96 base64 characters cover it.
MAX_SIGNATURE_B64 = 200
CHALLENGE_ID = re.compile(r"[A-Za-z0-9_-]{16,32}")
SERIAL = re.compile(r"[0-9a-f]{1,40}")
STANDARD_B64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


# --- refusals ---------------------------------------------------------------------------------

class MalformedCertificate(InvalidInput):
    keep_writes = True
    code = "MALFORMED_CERTIFICATE"
    message = "证书格式有误，请提交 PEM 格式的单张证书"


class CertNotIssuedByCentre(Unauthorized):
    keep_writes = True
    code = "CERT_NOT_ISSUED_BY_CENTRE"
    message = "该证书不是本公积金中心签发的"


class CertWrongUsage(Unauthorized):
    keep_writes = True
    code = "CERT_WRONG_USAGE"
    message = "该证书不是操作员登录证书"


class CertNotYetValid(Unauthorized):
    keep_writes = True
    code = "CERT_NOT_YET_VALID"
    message = "证书尚未生效"


class CertExpired(Unauthorized):
    keep_writes = True
    code = "CERT_EXPIRED"
    message = "证书已过期，请联系公积金中心更换"


class CertRevoked(Unauthorized):
    keep_writes = True
    code = "CERT_REVOKED"
    message = "证书已注销，请联系公积金中心"


class CertNotYours(Unauthorized):
    keep_writes = True
    code = "CERT_NOT_YOURS"
    message = "该证书不属于此登录账户"


class BadChallengeSignature(Unauthorized):
    keep_writes = True
    code = "BAD_CHALLENGE_SIGNATURE"
    message = "证书签名验证失败"


class ChallengeUnknown(Unauthorized):
    code = "CHALLENGE_UNKNOWN"
    message = "登录挑战码无效，请重新获取"


class ChallengeExpired(Unauthorized):
    keep_writes = True
    code = "CHALLENGE_EXPIRED"
    message = "登录挑战码已过期，请重新获取"


class ChallengeUsed(Unauthorized):
    keep_writes = True
    code = "CHALLENGE_USED"
    message = "登录挑战码已使用，请重新获取"


class InvalidCsr(InvalidInput):
    code = "INVALID_CSR"
    message = "证书请求格式有误（须为 EC P-256 密钥的 PEM 格式证书请求）"


_PROBLEMS: dict[str, type[HpfError]] = {
    ca.MALFORMED: MalformedCertificate, ca.NOT_ISSUED: CertNotIssuedByCentre,
    ca.WRONG_USAGE: CertWrongUsage, ca.NOT_YET_VALID: CertNotYetValid, ca.EXPIRED: CertExpired,
}


# --- the CA -----------------------------------------------------------------------------------

def _utc(value: datetime) -> datetime:
    # SQLite returns stored UTC times without a zone.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@lru_cache(maxsize=8)
def _parsed(pem: str) -> x509.Certificate:
    return ca.load_cert(pem)


def ensure_ca(session: Session) -> tuple[CertificateAuthority, bool]:
    """The centre's root CA, created on first need; returns it and whether it was created now.

    Two processes creating it at once: the unique label lets one win, the other reads its row.
    """
    row = cert_repository.authority(session, CA_LABEL)
    if row is not None:
        return row, False
    now = clock.now()
    key, cert = ca.build_root(CA_COMMON_NAME, CENTRE_NAME, now)
    row = CertificateAuthority(
        label=CA_LABEL, subject=ca.subject_text(cert), fingerprint=ca.fingerprint(cert),
        certificate_pem=ca.cert_pem(cert),
        private_key_enc=field_cipher().encrypt(ca.key_pem(key), CA_KEY_CONTEXT),
        not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        winner = cert_repository.authority(session, CA_LABEL)
        if winner is None:
            raise
        return winner, False
    return row, True


def root_certificate_pem(session: Session) -> str | None:
    """The root certificate (PEM) operators' tools may pin, or None before the first issue."""
    row = cert_repository.authority(session, CA_LABEL)
    return row.certificate_pem if row else None


# --- issuing and revoking ---------------------------------------------------------------------

@dataclass(frozen=True)
class Issued:
    """A certificate just issued; `private_key_pem` only when the centre made the key pair
    (shown once, never stored)."""

    record: OperatorCertificate
    certificate_pem: str
    private_key_pem: str | None


def _require_admin(actor: Principal) -> None:
    # The command line acts as the system, which holds every role.
    if actor.kind == "system" and "admin" in actor.roles:
        return
    if not actor.is_staff:
        raise Forbidden("仅限公积金中心工作人员办理", code="STAFF_ONLY")
    if not actor.has_role("admin"):
        raise Forbidden("您没有办理该业务的权限", code="ROLE_REQUIRED", role="admin")


def _check_kind(kind: str) -> str:
    if kind not in CERT_KINDS:
        raise InvalidInput("仅单位与开发企业经办人可使用数字证书", code="CERT_KIND_NOT_ALLOWED")
    return kind


def issue_certificate(session: Session, actor: Principal, kind: str, login_name: str, *,
                      csr_pem: str | None = None,
                      valid_days: int = DEFAULT_VALID_DAYS) -> Issued:
    """Issue a certificate to an operator account (staff role admin).

    With a CSR the operator keeps the private key and only its public key is certified; without
    one the centre generates the key pair and returns the private key (PKCS#8 PEM) once.
    """
    _require_admin(actor)
    _check_kind(kind)
    if not isinstance(valid_days, int) or not 1 <= valid_days <= MAX_VALID_DAYS:
        raise InvalidInput(f"证书有效期应为1至{MAX_VALID_DAYS}天", code="INVALID_VALIDITY")
    user = repository.user_by_login(session, kind, (login_name or "").strip()[:64],
                                    for_update=True)
    if user is None:
        raise NotFound("没有该经办人账户", code="USER_NOT_FOUND")
    if user.status == "disabled":
        raise Conflict("账户已停用，不能签发证书", code="ACCOUNT_DISABLED")
    if cert_repository.active_count(session, user.id) >= MAX_ACTIVE_PER_USER:
        raise Conflict(f"每个账户最多持有{MAX_ACTIVE_PER_USER}张有效证书，请先注销旧证书",
                       code="CERT_LIMIT_REACHED", limit=MAX_ACTIVE_PER_USER)
    private_key_pem = None
    if csr_pem is not None:
        try:
            public_key = ca.public_key_from_csr(csr_pem)
        except ca.CertificateProblem:
            raise InvalidCsr() from None
    else:
        key = ca.new_key()
        public_key, private_key_pem = key.public_key(), ca.key_pem(key)

    authority, created = ensure_ca(session)
    ca_key = ca.load_key(decrypt_or_refuse(authority.private_key_enc, CA_KEY_CONTEXT))
    now = clock.now()
    leaf = ca.issue_leaf(ca_key, _parsed(authority.certificate_pem), public_key,
                         common_name=user.display_name, organization=CENTRE_NAME,
                         unit=KIND_NAMES[kind], user_id=f"{kind}:{user.login_name}", now=now,
                         valid_days=valid_days)
    pem = ca.cert_pem(leaf)
    record = OperatorCertificate(
        serial=ca.serial_text(leaf), ca_id=authority.id, user_id=user.id,
        fingerprint=ca.fingerprint(leaf), subject=ca.subject_text(leaf),
        not_before=leaf.not_valid_before_utc, not_after=leaf.not_valid_after_utc,
        status="active", certificate_pem=pem, issued_at=now,
        issued_by=actor.user_id if actor.is_staff else None,
    )
    session.add(record)
    session.flush()
    audit.record(session, "cert.issue", "success", actor_kind=actor.kind,
                 actor_id=actor.user_id, actor_name=actor.name, target=record.serial,
                 detail={"user": f"{kind}:{user.login_name}", "fingerprint": record.fingerprint,
                         "not_after": record.not_after.isoformat(),
                         "key": "generated" if private_key_pem else "csr",
                         "ca_created": created})
    return Issued(record, pem, private_key_pem)


def write_key_and_cert(directory: Path, private_key_pem: str | None,
                       certificate_pem: str) -> list[Path]:
    """Write key.pem (readable by its owner only) and cert.pem into a directory; the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    if private_key_pem is not None:
        key_path = directory / "key.pem"
        # Created owner-only rather than chmod-ed afterwards: no moment when others can read it.
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(private_key_pem)
        os.chmod(key_path, 0o600)
        written.append(key_path)
    cert_path = directory / "cert.pem"
    cert_path.write_text(certificate_pem, encoding="ascii")
    written.append(cert_path)
    return written


def normalize_serial(serial: str) -> str | None:
    """A serial as stored (lower-case hex, no colons or leading zeros), or None if not one."""
    text = (serial or "").strip().lower().replace(":", "")[:80].lstrip("0") or "0"
    return text if SERIAL.fullmatch(text) else None


def revoke(session: Session, actor: Principal, serial: str, reason: str) -> OperatorCertificate:
    """Revoke a certificate (staff role admin); the operator's open sessions end with it,
    since any of them may have been opened with the key being withdrawn."""
    _require_admin(actor)
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= MAX_REASON_CHARS:
        raise InvalidInput(f"请填写注销原因（不超过{MAX_REASON_CHARS}字）", code="REASON_REQUIRED")
    normalized = normalize_serial(serial)
    record = (cert_repository.certificate_by_serial(session, normalized, for_update=True)
              if normalized else None)
    if record is None:
        raise NotFound("证书不存在", code="CERT_NOT_FOUND")
    if record.status == "revoked":
        raise Conflict("该证书已注销", code="CERT_ALREADY_REVOKED")
    now = clock.now()
    record.status = "revoked"
    record.revoked_at = now
    record.revoked_by = actor.user_id if actor.is_staff else None
    record.reason = reason
    session.flush()
    ended = identity.revoke_sessions(session, record.user_id, "cert_revoked")
    user = session.get(UserAccount, record.user_id)
    audit.record(session, "cert.revoke", "success", actor_kind=actor.kind,
                 actor_id=actor.user_id, actor_name=actor.name, target=record.serial,
                 detail={"user": f"{user.kind}:{user.login_name}", "reason": reason,
                         "sessions_ended": ended})
    return record


@dataclass(frozen=True)
class CertificateView:
    """One issued certificate as lists show it."""

    serial: str
    kind: str
    login_name: str
    display_name: str
    subject: str
    fingerprint: str
    status: str
    not_before: datetime
    not_after: datetime
    issued_at: datetime
    revoked_at: datetime | None
    reason: str | None


def list_certificates(session: Session, *, kind: str | None = None,
                      login_name: str | None = None, status: str | None = None,
                      limit: int = 50, offset: int = 0) -> list[CertificateView]:
    """Issued certificates, newest first (at most MAX_LIST a page)."""
    if kind is not None:
        _check_kind(kind)
    if status is not None and status not in ("active", "revoked"):
        raise InvalidInput("证书状态应为 active 或 revoked", code="INVALID_STATUS")
    rows = cert_repository.certificates(
        session, kind=kind, login_name=(login_name or "").strip()[:64] or None, status=status,
        limit=max(1, min(limit, MAX_LIST)), offset=max(0, offset))
    return [_view(c, u) for c, u in rows]


def view_of(session: Session, record: OperatorCertificate) -> CertificateView:
    """One certificate as lists show it."""
    return _view(record, session.get(UserAccount, record.user_id))


def _view(c: OperatorCertificate, u: UserAccount) -> CertificateView:
    return CertificateView(
        serial=c.serial, kind=u.kind, login_name=u.login_name, display_name=u.display_name,
        subject=c.subject, fingerprint=c.fingerprint, status=c.status,
        not_before=_utc(c.not_before), not_after=_utc(c.not_after), issued_at=_utc(c.issued_at),
        revoked_at=_utc(c.revoked_at) if c.revoked_at else None, reason=c.reason,
    )


# --- login ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Challenge:
    """What the client signs: `challenge` bytes, valid `expires_in_s` seconds, once."""

    challenge_id: str
    challenge: bytes
    expires_in_s: int


def challenge_bytes(row: LoginChallenge) -> bytes:
    """The bytes a client signs: who and which challenge, so a signature cannot be reused for
    another account, another challenge or another purpose."""
    expires = _utc(row.expires_at).isoformat(timespec="seconds")
    return "\n".join([CHALLENGE_PREFIX, row.challenge_id, row.kind, row.login_name, row.nonce,
                      expires]).encode("utf-8")


def start_challenge(session: Session, kind: str, login_name: str, channel: str) -> Challenge:
    """A fresh challenge for a certificate login of `kind` / `login_name`.

    Handed out for names that do not exist as well (the login then fails with CERT_NOT_YOURS),
    so the answer does not tell which login names exist.
    """
    _check_kind(kind)
    name = (login_name or "").strip()[:64]
    if not name:
        raise InvalidInput("请输入登录名", code="INVALID_LOGIN_NAME")
    now = clock.now()
    user = repository.user_by_login(session, kind, name)
    cert_repository.purge_challenges(session, now - timedelta(seconds=CHALLENGE_KEEP_S))
    row = LoginChallenge(
        challenge_id=secrets.token_urlsafe(16), nonce=secrets.token_urlsafe(32), kind=kind,
        login_name=name, user_id=user.id if user else None, channel=channel[:16],
        created_at=now, expires_at=now + timedelta(seconds=CHALLENGE_TTL_S),
    )
    session.add(row)
    session.flush()
    return Challenge(row.challenge_id, challenge_bytes(row), CHALLENGE_TTL_S)


def _decode_signature(text: str) -> bytes | None:
    text = (text or "").strip()
    if not text or len(text) > MAX_SIGNATURE_B64 or not STANDARD_B64.fullmatch(text):
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def login_with_certificate(session: Session, challenge_id: str, certificate_pem: str,
                           signature_b64: str, channel: str, ip: str | None = None,
                           user_agent: str | None = None) -> tuple[str, Principal]:
    """Check a signed challenge and the certificate presented with it; open a session.

    Refusals: CHALLENGE_UNKNOWN / _EXPIRED / _USED, ACCOUNT_LOCKED, MALFORMED_CERTIFICATE,
    CERT_NOT_ISSUED_BY_CENTRE, CERT_WRONG_USAGE, CERT_NOT_YET_VALID, CERT_EXPIRED,
    CERT_REVOKED, CERT_NOT_YOURS, BAD_CHALLENGE_SIGNATURE, ACCOUNT_DISABLED. The certificate and
    signature refusals count towards the account's lockout like a wrong password.
    """
    challenge_id = (challenge_id or "").strip()
    row = cert_repository.challenge_for_update(session, challenge_id) \
        if CHALLENGE_ID.fullmatch(challenge_id) else None
    if row is None:
        raise ChallengeUnknown()  # nothing to attribute it to: nothing written
    now = clock.now()
    user = repository.user_by_id(session, row.user_id, for_update=True) \
        if row.user_id is not None else None

    def refuse(error: HpfError, *, counts: bool = False) -> HpfError:
        if counts and user is not None and identity._count_failure(session, user, now):
            error = identity._locked_error(user, now)
        session.add(LoginEvent(
            user_id=user.id if user else None, login_name=row.login_name, kind=row.kind,
            channel=channel[:16], outcome="failure", reason=error.code[:32],
            ip=(ip or None) and ip[:45], user_agent=(user_agent or None) and user_agent[:200],
            created_at=now,
        ))
        session.flush()
        audit.record(session, "login", "failure", actor_kind=row.kind,
                     actor_id=user.id if user else None, actor_name=row.login_name,
                     channel=channel, ip=ip,
                     detail={"reason": error.code, "method": "certificate"})
        return error

    if row.used_at is not None:
        raise refuse(ChallengeUsed())
    if now >= _utc(row.expires_at):
        raise refuse(ChallengeExpired())
    row.used_at = now  # one attempt per challenge, whatever comes of it
    if user is not None:
        identity._unlock_if_due(user, now)
        if user.status == "locked":
            raise refuse(identity._locked_error(user, now))

    authority = cert_repository.authority(session, CA_LABEL)
    try:
        leaf = ca.parse_presented(certificate_pem)
        if authority is None:  # no certificate was ever issued
            raise ca.CertificateProblem(ca.NOT_ISSUED)
        ca.verify_leaf(_parsed(authority.certificate_pem), leaf, now)
    except ca.CertificateProblem as exc:
        raise refuse(_PROBLEMS[exc.code](), counts=True) from None
    record = cert_repository.certificate_by_fingerprint(session, ca.fingerprint(leaf))
    if record is None:  # signed by the CA key but not in the register: never honoured
        raise refuse(CertNotIssuedByCentre(), counts=True)
    if record.status == "revoked":
        raise refuse(CertRevoked(), counts=True)
    if user is None or record.user_id != user.id:
        raise refuse(CertNotYours(), counts=True)
    signature = _decode_signature(signature_b64)
    if signature is None or not ca.signature_holds(leaf, challenge_bytes(row), signature):
        raise refuse(BadChallengeSignature(), counts=True)
    if user.status == "disabled":
        raise refuse(AccountDisabled())
    return identity.start_session(session, user, channel, now, ip=ip, user_agent=user_agent,
                                  detail={"method": "certificate", "serial": record.serial})
