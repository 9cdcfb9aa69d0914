"""Identity use cases: registration, accounts, login, sessions, password change.

Services flush and never commit. Refusals marked `keep_writes` (see `hpf.identity.errors`)
leave behind only the evidence of the refusal, which the transaction boundary commits.
"""

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from hpf.audit import service as audit
from hpf.catalog import params
from hpf.config import get_settings
from hpf.gateway.principal import Principal
from hpf.identity import captcha, domain, passwords, repository, totp
from hpf.identity.domain import ROLES
from hpf.identity.errors import (
    AccountDisabled,
    AccountLocked,
    AlreadyRegistered,
    BadCredentials,
    BadTotp,
    CertificateRequired,
    NotAMember,
    OtpExpired,
    OtpInvalid,
    TooFrequent,
    TotpNotEnrolled,
    TotpRequired,
    TotpReused,
)
from hpf.identity.models import KINDS, AuthSession, LoginEvent, OtpCode, UserAccount
from hpf.kit import clock
from hpf.kit.crypto import decrypt_or_refuse, field_cipher
from hpf.kit.errors import Conflict, HpfError, InvalidInput, NotFound
from hpf.kit.ids import mask_id_number, mask_phone, normalize_id_number, normalize_phone
from hpf.kit.sealed import id_number_index, phone_index
from hpf.notices.service import send_sms
from hpf.risk import service as risk

__all__ = [
    "ROLES", "start_member_registration", "finish_member_registration", "issue_otp",
    "verify_otp", "create_unit_operator", "create_staff", "login", "resolve", "logout",
    "change_password", "revoke_sessions", "principal_of",
]

PURPOSE_REGISTER = "register"
# A session's last_seen_at (and its sliding idle expiry) is written at most this often.
SEEN_WRITE_INTERVAL_S = 30
MAX_TOKEN_LENGTH = 128
OTP_DIGITS = 6
TOTP_CONTEXT = "idn_user_account.totp_secret"


def _utc(value: datetime) -> datetime:
    # SQLite returns stored UTC times without a zone.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _token_hash(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def _otp_hash(phone: str, purpose: str, code: str) -> str:
    # Keyed: a six-digit code under a plain hash falls to a million guesses offline.
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"{purpose}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def principal_of(user: UserAccount, session_id: int | None = None) -> Principal:
    """The principal a channel hands to the gateway for an account."""
    return Principal(
        kind=user.kind,
        user_id=user.id,
        name=user.display_name,
        member_id=user.member_id,
        employer_id=user.employer_id if user.kind == "unit" else None,
        roles=domain.parse_roles(user.roles) if user.kind == "staff" else frozenset(),
        session_id=session_id,
    )


# --- one-time codes -------------------------------------------------------------------------

def issue_otp(session: Session, phone: str, purpose: str, text: str) -> OtpCode:
    """Create a code for a phone and queue it by SMS (template "otp.<purpose>").

    `text` holds the placeholders `{code}` and `{minutes}`.

    One code per phone per `otp.resend_interval_s`, at most `otp.daily_max` a day. A new code
    replaces the earlier ones of the same purpose (only the newest is checked).
    """
    now = clock.now()
    interval_s = int(params.get(session, "otp.resend_interval_s"))
    last = repository.latest_otp(session, phone)
    if last is not None:
        waited_s = (now - _utc(last.created_at)).total_seconds()
        if 0 <= waited_s < interval_s:
            raise TooFrequent(retry_after_s=int(interval_s - waited_s) + 1)
    if repository.otp_count_since(session, phone, now - timedelta(days=1)) >= int(
            params.get(session, "otp.daily_max")):
        raise TooFrequent("今日获取验证码次数已达上限，请明日再试")
    ttl_s = int(params.get(session, "otp.ttl_s"))
    code = f"{secrets.randbelow(10**OTP_DIGITS):0{OTP_DIGITS}d}"
    row = OtpCode(phone_bidx=phone_index(phone), purpose=purpose,
                  code_hash=_otp_hash(phone, purpose, code),
                  expires_at=now + timedelta(seconds=ttl_s), attempts=0, created_at=now)
    session.add(row)
    session.flush()
    send_sms(session, phone, f"otp.{purpose}",
             text.format(code=code, minutes=max(1, ttl_s // 60)))
    return row


def verify_otp(session: Session, phone: str, purpose: str, code: str) -> None:
    """Accept the newest code of a phone and purpose once; count wrong guesses.

    Refusals: OTP_INVALID (no code, used, wrong, too many wrong guesses), OTP_EXPIRED.
    """
    now = clock.now()
    row = repository.latest_otp(session, phone, purpose)
    if row is None or row.used_at is not None:
        raise OtpInvalid("验证码无效，请重新获取")
    if now >= _utc(row.expires_at):
        raise OtpExpired()
    max_attempts = int(params.get(session, "otp.max_attempts"))
    if row.attempts >= max_attempts:
        raise OtpInvalid("验证码错误次数过多，请重新获取")
    given = (code or "").strip()
    if not hmac.compare_digest(_otp_hash(phone, purpose, given), row.code_hash):
        row.attempts += 1
        session.flush()
        left = max_attempts - row.attempts
        if left <= 0:
            raise OtpInvalid("验证码错误次数过多，请重新获取")
        raise OtpInvalid(f"验证码错误，还可尝试{left}次", attempts_left=left)
    row.used_at = now
    session.flush()


# --- registration ---------------------------------------------------------------------------

def _matching_member(session: Session, name: str, id_number: str, phone: str):
    """The member whose name, ID number and phone on record all match, or NOT_A_MEMBER."""
    id18 = normalize_id_number(id_number)
    phone = normalize_phone(phone)
    member = repository.member_by_id_number(session, id18)
    if (member is None
            or domain.normalize_name(member.name) != domain.normalize_name(name)
            or (member.phone or "").strip() != phone):
        raise NotAMember()
    return member, id18, phone


def start_member_registration(session: Session, name: str, id_number: str, phone: str) -> str:
    """Check the person against the centre's records and text a registration code.

    Returns the masked phone the code went to.
    """
    member, _id18, phone = _matching_member(session, name, id_number, phone)
    if repository.user_by_member(session, member.id) is not None:
        raise AlreadyRegistered()
    issue_otp(session, phone, PURPOSE_REGISTER, "您的注册验证码为{code}，{minutes}分钟内有效。")
    return mask_phone(phone)


def finish_member_registration(session: Session, name: str, id_number: str, phone: str,
                               code: str, password: str) -> UserAccount:
    """Create a member's account (login name: the ID number) after the SMS code checks out."""
    member, id18, phone = _matching_member(session, name, id_number, phone)
    if repository.user_by_member(session, member.id) is not None:
        raise AlreadyRegistered()
    # Before the code is spent, so a weak password does not cost the user a new code.
    passwords.check_policy(password, id_number=id18)
    verify_otp(session, phone, PURPOSE_REGISTER, code)
    if repository.user_by_login(session, "member", id18) is not None:
        raise AlreadyRegistered()
    now = clock.now()
    user = UserAccount(
        kind="member", login_name=id_number_index(id18), display_name=member.name[:64],
        password_hash=passwords.hash_password(password), member_id=member.id,
        employer_id=None, phone=phone, roles="", status="active", failed_count=0,
        created_at=now, password_changed_at=now,
    )
    session.add(user)
    session.flush()
    return user


# --- accounts made by the centre ------------------------------------------------------------

def _check_login_name(session: Session, kind: str, login_name: str) -> str:
    login_name = (login_name or "").strip()
    if not domain.LOGIN_NAME.fullmatch(login_name):
        raise InvalidInput("登录名应为3至32位字母、数字或 _ . @ -，以字母或数字开头",
                           code="INVALID_LOGIN_NAME")
    if repository.user_by_login(session, kind, login_name) is not None:
        raise Conflict("该登录名已被使用", code="LOGIN_NAME_TAKEN")
    return login_name


def _check_display_name(display_name: str) -> str:
    display_name = (display_name or "").strip()
    if not 1 <= len(display_name) <= 64:
        raise InvalidInput("姓名应为1至64个字符", code="INVALID_DISPLAY_NAME")
    return display_name


def create_unit_operator(session: Session, employer_id: int, login_name: str,
                         display_name: str, password: str,
                         phone: str | None = None) -> UserAccount:
    """An employer's operator account (单位经办人)."""
    if not repository.employer_exists(session, employer_id):
        raise NotFound("单位账户不存在", code="EMPLOYER_NOT_FOUND")
    login_name = _check_login_name(session, "unit", login_name)
    display_name = _check_display_name(display_name)
    passwords.check_policy(password, login_name=login_name)
    now = clock.now()
    user = UserAccount(
        kind="unit", login_name=login_name, display_name=display_name,
        password_hash=passwords.hash_password(password), employer_id=employer_id,
        phone=normalize_phone(phone) if phone else None, roles="", status="active",
        failed_count=0, created_at=now, password_changed_at=now,
    )
    session.add(user)
    session.flush()
    return user


def issue_initial_password(session: Session, employer_id: int, login_name: str,
                           display_name: str, phone: str) -> str:
    """Create a new employer's first operator with a random password sent by SMS.

    Used when staff approve a registration (单位缴存登记); returns the masked phone.
    """
    password = "Hp" + secrets.token_urlsafe(9)
    while passwords.policy_problem(password):
        password = "Hp" + secrets.token_urlsafe(9)
    create_unit_operator(session, employer_id, login_name, display_name, password, phone)
    send_sms(session, phone, "unit.initial_password",
             f"贵单位已开立住房公积金缴存账户，网厅登录名{login_name}，初始密码{password}，"
             "请登录后及时修改。")
    return mask_phone(phone)


def create_member_login(session: Session, member_id: int, password: str) -> UserAccount:
    """A member's login created at the counter (identity seen there) or by the demo seed."""
    member = repository.member_by_id(session, member_id)
    if member is None:
        raise NotFound("个人账户不存在", code="MEMBER_NOT_FOUND")
    if repository.user_by_member(session, member.id) is not None:
        raise AlreadyRegistered()
    passwords.check_policy(password, id_number=member.id_number)
    now = clock.now()
    user = UserAccount(
        kind="member", login_name=member.id_number_bidx, display_name=member.name[:64],
        password_hash=passwords.hash_password(password), member_id=member.id,
        employer_id=None, phone=member.phone, roles="", status="active", failed_count=0,
        created_at=now, password_changed_at=now,
    )
    session.add(user)
    session.flush()
    return user


def follow_member_identity(session: Session, member_id: int, id_number: str, name: str) -> None:
    """Keep a member's login name (the ID number's blind index) and display name in step with
    the record."""
    user = repository.user_by_member(session, member_id)
    if user is None:
        return
    user.login_name = id_number_index(id_number)
    user.display_name = name[:64]
    session.flush()


def create_staff(session: Session, login_name: str, display_name: str, password: str,
                 roles: set[str] | frozenset[str], totp_secret: str | None = None) -> UserAccount:
    """A centre staff account with its roles (see ROLES), enrolled for TOTP (a new secret
    unless one is given; read it once with `staff_totp_secret` to set up the authenticator)."""
    roles = set(roles)
    unknown = sorted(roles - set(ROLES))
    if unknown:
        raise InvalidInput("未知的角色", code="UNKNOWN_ROLE", roles=unknown)
    if not roles:
        raise InvalidInput("请至少分配一个角色", code="UNKNOWN_ROLE")
    login_name = _check_login_name(session, "staff", login_name)
    display_name = _check_display_name(display_name)
    passwords.check_policy(password, login_name=login_name)
    now = clock.now()
    user = UserAccount(
        kind="staff", login_name=login_name, display_name=display_name,
        password_hash=passwords.hash_password(password), roles=domain.format_roles(roles),
        status="active", failed_count=0, created_at=now, password_changed_at=now,
        totp_secret_enc=field_cipher().encrypt(totp_secret or totp.new_secret(), TOTP_CONTEXT),
    )
    session.add(user)
    session.flush()
    return user


def enrol_totp(session: Session, login_name: str) -> str:
    """Give a staff member a new TOTP secret (the old one stops working); returns it."""
    user = repository.user_by_login(session, "staff", login_name.strip(), for_update=True)
    if user is None:
        raise InvalidInput("没有这名工作人员", code="UNKNOWN_STAFF")
    secret = totp.new_secret()
    user.totp_secret_enc = field_cipher().encrypt(secret, TOTP_CONTEXT)
    user.totp_last_step = None
    session.flush()
    return secret


def staff_totp_secret(session: Session, login_name: str) -> str | None:
    """A staff member's TOTP secret in the clear (enrolment, the demo), or None."""
    user = repository.user_by_login(session, "staff", login_name.strip())
    if user is None or user.totp_secret_enc is None:
        return None
    return decrypt_or_refuse(user.totp_secret_enc, TOTP_CONTEXT)


def _check_totp(session: Session, user: UserAccount, otp: str | None, now: datetime,
                refuse) -> None:
    """Staff's second factor; a wrong code counts towards the lockout like a wrong password."""
    if user.totp_secret_enc is None:
        raise refuse(TotpNotEnrolled())
    if not otp:
        raise refuse(TotpRequired())
    secret = decrypt_or_refuse(user.totp_secret_enc, TOTP_CONTEXT)
    verdict, step = totp.check(secret, otp, now.timestamp(), user.totp_last_step)
    if verdict == "reused":
        raise refuse(TotpReused())
    if verdict == "wrong":
        if _count_failure(session, user, now):
            raise refuse(_locked_error(user, now))
        raise refuse(BadTotp())
    user.totp_last_step = step


# --- login and sessions ---------------------------------------------------------------------

def _normalize_login_name(kind: str, login_name: str) -> str:
    if kind not in KINDS:
        raise InvalidInput("未知的用户类型", code="UNKNOWN_USER_KIND")
    if kind == "member":
        return normalize_id_number(login_name)
    return (login_name or "").strip()[:64]


# An account number (个人账号) is all digits, 10 to 20 of them; anything else a member types is
# read as an ID number (and a malformed one refused as such).
MEMBER_NO_DIGITS = (10, 20)


def _login_identity(session: Session, kind: str, login_name: str) -> tuple[str, str]:
    """(what the audit shows, what the account stores) for a login name as typed. A member
    signs in with the ID number or the account number (个人账号: digits, not 15 or 18 long);
    an unknown account number gives a key no account has, so the answer stays
    BAD_CREDENTIALS."""
    raw = (login_name or "").strip()
    if kind == "member" and raw.isdigit() and len(raw) not in (15, 18) \
            and MEMBER_NO_DIGITS[0] <= len(raw) <= MEMBER_NO_DIGITS[1]:
        member = repository.member_by_no(session, raw)
        if member is None:
            return raw[:4] + "*" * max(0, len(raw) - 4), f"no-member:{raw}"
        typed = member.id_number
    else:
        typed = _normalize_login_name(kind, login_name)
    return typed, _login_key(kind, typed)


def _login_key(kind: str, name: str) -> str:
    """What the account and the login log store: a member's ID number only as its blind index."""
    return id_number_index(name) if kind == "member" else name


def _user_audit_name(session: Session, user: UserAccount) -> str:
    """An account's name as the audit shows it (a member: the masked ID number)."""
    if user.kind != "member":
        return user.login_name
    member = repository.member_by_id(session, user.member_id) if user.member_id else None
    return mask_id_number(member.id_number) if member else user.display_name


def _unlock_if_due(user: UserAccount, now: datetime) -> None:
    if user.status == "locked" and user.locked_until is not None \
            and _utc(user.locked_until) <= now:
        user.status = "active"
        user.locked_until = None
        user.failed_count = 0
        user.first_failed_at = None


def _locked_error(user: UserAccount, now: datetime) -> AccountLocked:
    if user.locked_until is None:
        return AccountLocked("账户已被锁定，请联系公积金中心")
    wait_s = max(1, int((_utc(user.locked_until) - now).total_seconds()))
    minutes = (wait_s + 59) // 60
    return AccountLocked(f"密码错误次数过多，账户已锁定，请{minutes}分钟后再试",
                         retry_after_s=wait_s)


def _count_failure(session: Session, user: UserAccount, now: datetime) -> bool:
    """Add one failure to the account; True when it locked the account."""
    state = domain.after_failure(
        user.failed_count,
        _utc(user.first_failed_at) if user.first_failed_at else None,
        now,
        max_failures=int(params.get(session, "auth.max_failures")),
        window_s=int(params.get(session, "auth.failure_window_s")),
        lockout_s=int(params.get(session, "auth.lockout_s")),
    )
    user.failed_count = state.failed_count
    user.first_failed_at = state.first_failed_at
    if state.locked_until is not None:
        user.status = "locked"
        user.locked_until = state.locked_until
        return True
    return False


def _recent_failures(user: UserAccount | None, now: datetime, session: Session) -> int:
    """The account's failures inside the failure window (0 for an unknown name)."""
    if user is None or user.first_failed_at is None:
        return 0
    window_s = int(params.get(session, "auth.failure_window_s"))
    return user.failed_count if now - _utc(user.first_failed_at) <= timedelta(
        seconds=window_s) else 0


def login(session: Session, kind: str, login_name: str, password: str, channel: str,
          ip: str | None = None, user_agent: str | None = None,
          otp: str | None = None, captcha_id: str | None = None,
          captcha_answer: str | None = None) -> tuple[str, Principal]:
    """Check a password login (staff: and their TOTP code) and open a session; returns the raw
    bearer token once.

    Every attempt is recorded as a LoginEvent. Refusals: BAD_CREDENTIALS (unknown user or wrong
    password, the same words), ACCOUNT_LOCKED, ACCOUNT_DISABLED, and for staff TOTP_REQUIRED,
    BAD_TOTP, TOTP_REUSED, TOTP_NOT_ENROLLED; they carry `keep_writes`.
    """
    typed, name = _login_identity(session, kind, login_name)
    now = clock.now()
    user = repository.user_by_login(session, kind, name, for_update=True)

    def refuse(error: HpfError) -> HpfError:
        session.add(LoginEvent(
            user_id=user.id if user else None, login_name=name[:64], kind=kind,
            channel=channel[:16], outcome="failure", reason=error.code[:32],
            ip=(ip or None) and ip[:45], user_agent=(user_agent or None) and user_agent[:200],
            created_at=now,
        ))
        session.flush()
        audit.record(session, "login", "failure", actor_kind=kind,
                     actor_id=user.id if user else None, actor_name=_audit_name(kind, typed),
                     channel=channel, ip=ip, detail={"reason": error.code})
        if not captcha.is_captcha_error(error):
            captcha.count_failure(session, kind, name, ip)
        return error

    try:
        captcha.guard(session, kind, name, ip, _recent_failures(user, now, session),
                      captcha_id, captcha_answer)
    except HpfError as exc:
        raise refuse(exc) from None
    # A centre that requires certificates refuses every operator password, known name or not.
    if kind in ("unit", "developer") and params.get(
            session, "identity.operator_certificate_required"):
        raise refuse(CertificateRequired())
    if user is None:
        passwords.burn_verify(password)
        raise refuse(BadCredentials())
    _unlock_if_due(user, now)
    if user.status == "locked":
        raise refuse(_locked_error(user, now))
    if not passwords.verify_password(user.password_hash, password):
        if _count_failure(session, user, now):
            raise refuse(_locked_error(user, now))
        raise refuse(BadCredentials())
    if user.status == "disabled":
        raise refuse(AccountDisabled())
    if kind == "staff":
        _check_totp(session, user, otp, now, refuse)

    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return start_session(session, user, channel, now, ip=ip, user_agent=user_agent)


def start_session(session: Session, user: UserAccount, channel: str, now: datetime, *,
                  ip: str | None = None, user_agent: str | None = None,
                  detail: dict | None = None) -> tuple[str, Principal]:
    """Open a session for an account that has just proved who it is (password or certificate
    login): clear its failures, write the login event and the audit record; returns the raw
    bearer token once. `detail` (e.g. the certificate used) goes into the audit record."""
    failures_before = _recent_failures(user, now, session)
    user.failed_count = 0
    user.first_failed_at = None
    user.last_login_at = now
    settings = get_settings()
    raw_token = secrets.token_urlsafe(32)
    absolute = now + timedelta(seconds=settings.session_absolute_timeout_s)
    auth = AuthSession(
        token_hash=_token_hash(raw_token), user_id=user.id, channel=channel[:16],
        created_at=now, last_seen_at=now,
        idle_expires_at=min(now + timedelta(seconds=settings.session_idle_timeout_s), absolute),
        absolute_expires_at=absolute,
        ip=(ip or None) and ip[:45], user_agent=(user_agent or None) and user_agent[:200],
    )
    session.add(auth)
    session.add(LoginEvent(
        user_id=user.id, login_name=user.login_name[:64], kind=user.kind, channel=channel[:16],
        outcome="success", reason=None, ip=auth.ip, user_agent=auth.user_agent, created_at=now,
    ))
    session.flush()
    audit.record(session, "login", "success", actor_kind=user.kind, actor_id=user.id,
                 actor_name=_user_audit_name(session, user), channel=channel, ip=ip,
                 detail=detail)
    risk.on_login_success(session, user_id=user.id, member_id=user.member_id,
                          failures_before=failures_before, channel=channel, phone=user.phone)
    return raw_token, principal_of(user, auth.id)


def _audit_name(kind: str, login_name: str) -> str:
    """The login name as the audit shows it: a member's ID number masked."""
    return mask_id_number(login_name) if kind == "member" else login_name


def resolve(session: Session, raw_token: str | None, *, touch: bool = True) -> Principal | None:
    """The principal of a live session token, or None (unknown, revoked, expired, disabled).

    A live session's idle expiry slides forward; the write happens at most every
    SEEN_WRITE_INTERVAL_S seconds. With `touch=False` (a read-only transaction) nothing is
    written and `touch_due(principal)` tells the caller to call `touch` in a writing one.
    An account locked by failed logins keeps its sessions (otherwise anyone could log a
    member out by guessing); one locked by staff does not.
    """
    if not raw_token or len(raw_token) > MAX_TOKEN_LENGTH:
        return None
    found = repository.session_and_user(session, _token_hash(raw_token))
    if found is None:
        return None
    auth, user = found
    now = clock.now()
    if auth.revoked_at is not None:
        return None
    absolute = _utc(auth.absolute_expires_at)
    if now >= _utc(auth.idle_expires_at) or now >= absolute:
        return None
    if user.status == "disabled" or (user.status == "locked" and user.locked_until is None):
        return None
    principal = principal_of(user, auth.id)
    if (now - _utc(auth.last_seen_at)).total_seconds() >= SEEN_WRITE_INTERVAL_S:
        if not touch:
            session.info.setdefault(_TOUCH_DUE, set()).add(auth.id)
            return principal
        _slide(auth, now)
        session.flush()
    return principal


_TOUCH_DUE = "hpf_touch_due"


def _slide(auth: AuthSession, now: datetime) -> None:
    idle_s = get_settings().session_idle_timeout_s
    auth.last_seen_at = now
    auth.idle_expires_at = min(now + timedelta(seconds=idle_s), _utc(auth.absolute_expires_at))


def touch_due(session: Session, principal: Principal) -> bool:
    """True when resolve(touch=False) found this principal's session due for sliding."""
    return principal.session_id in session.info.get(_TOUCH_DUE, ())


def touch(session: Session, session_id: int) -> None:
    """Slide a live session's idle expiry forward (the write resolve(touch=False) left)."""
    auth = session.get(AuthSession, session_id, with_for_update=True)
    if auth is not None and auth.revoked_at is None:
        _slide(auth, clock.now())
        session.flush()


def logout(session: Session, raw_token: str | None) -> bool:
    """Revoke the session of a token; False when there was no live session to revoke."""
    if not raw_token or len(raw_token) > MAX_TOKEN_LENGTH:
        return False
    auth = repository.session_by_hash(session, _token_hash(raw_token))
    if auth is None or auth.revoked_at is not None:
        return False
    auth.revoked_at = clock.now()
    auth.revoked_reason = "logout"
    session.flush()
    user = session.get(UserAccount, auth.user_id)
    audit.record(session, "logout", "success", actor_kind=user.kind, actor_id=user.id,
                 actor_name=_user_audit_name(session, user), channel=auth.channel)
    return True


def revoke_sessions(session: Session, user_id: int, reason: str,
                    except_session_id: int | None = None) -> int:
    """Revoke every open session of a user (but one); returns how many."""
    now = clock.now()
    count = 0
    for auth in repository.open_sessions(session, user_id):
        if auth.id != except_session_id:
            auth.revoked_at = now
            auth.revoked_reason = reason[:24]
            count += 1
    session.flush()
    return count


def change_password(session: Session, user_id: int, old_password: str, new_password: str,
                    current_session_id: int | None = None) -> int:
    """Change a password (the old one required); other sessions of the user are revoked.

    A wrong old password counts as a failed login (OLD_PASSWORD_WRONG, or ACCOUNT_LOCKED).
    Returns the number of sessions revoked.
    """
    now = clock.now()
    user = repository.user_by_id(session, user_id, for_update=True)
    if user is None:
        raise NotFound("用户不存在", code="USER_NOT_FOUND")
    _unlock_if_due(user, now)
    if user.status == "locked":
        raise _locked_error(user, now)
    if user.status == "disabled":
        raise AccountDisabled()
    if not passwords.verify_password(user.password_hash, old_password):
        locked = _count_failure(session, user, now)
        session.flush()
        if locked:
            raise _locked_error(user, now)
        raise BadCredentials("原密码错误", code="OLD_PASSWORD_WRONG", status=422)
    if old_password == new_password:
        raise InvalidInput("新密码不能与原密码相同", code="WEAK_PASSWORD")
    member = repository.member_by_id(session, user.member_id) if user.member_id else None
    passwords.check_policy(new_password, id_number=member.id_number if member else None,
                           login_name=None if member else user.login_name)
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = now
    user.failed_count = 0
    user.first_failed_at = None
    session.flush()
    return revoke_sessions(session, user.id, "password_change",
                           except_session_id=current_session_id)
