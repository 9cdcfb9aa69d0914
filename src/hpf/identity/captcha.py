"""Picture captcha (图形验证码) after repeated login failures.

A login needs a captcha once its login name, its account or its address has failed
`auth.captcha_after_failures` times (address: `auth.captcha_after_ip_failures`, which catches
one machine trying many names) inside the failure window. The picture comes from the `captcha`
library; we keep only keyed hashes of its id and answer, and each picture takes one guess, right
or wrong, so a script cannot try all answers against one picture.

Failure counts for names and addresses live in hpf.kit.counters (shared through Redis when
configured); the account's own failure counter in the database covers a known user even in a
multi-process deployment without Redis.
"""

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

from captcha.image import ImageCaptcha
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hpf.catalog import params
from hpf.config import get_settings
from hpf.identity.security_models import Captcha
from hpf.kit import clock
from hpf.kit.counters import Counters, counters_for
from hpf.kit.errors import HpfError, Unauthorized

# No 0/O, 1/I/L: a person must be able to read it.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXY3456789"
LENGTH = 4
TTL_S = 300
WIDTH, HEIGHT = 160, 60
MAX_TOKEN_LENGTH = 64


class CaptchaRequired(Unauthorized):
    keep_writes = True
    code = "CAPTCHA_REQUIRED"
    message = "登录失败次数较多，请输入图形验证码"


class BadCaptcha(Unauthorized):
    keep_writes = True
    code = "BAD_CAPTCHA"
    message = "图形验证码错误或已失效，请刷新后重新输入"


def _keyed(value: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, b"captcha:" + value.encode(), hashlib.sha256).hexdigest()


def _name_key(kind: str, login_name: str) -> str:
    # Hashed: counter keys end up in Redis, and a member's login name is an ID number.
    return "login-fail:" + _keyed(f"{kind}:{login_name}")[:32]


def _ip_key(ip: str) -> str:
    return "login-fail-ip:" + ip[:45]


def _answer() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def new(session: Session) -> dict:
    """Draw a captcha; returns its id, the PNG as a data URL and its lifetime."""
    answer = _answer()
    token = secrets.token_urlsafe(24)
    now = clock.now()
    # Old pictures go with the new ones: the table holds minutes of work, never history.
    session.execute(delete(Captcha).where(Captcha.expires_at < now - timedelta(hours=1)))
    session.add(Captcha(token_hash=_keyed(token), answer_hash=_keyed(answer), created_at=now,
                        expires_at=now + timedelta(seconds=TTL_S)))
    session.flush()
    png = ImageCaptcha(width=WIDTH, height=HEIGHT).generate(answer).getvalue()
    return {"captcha_id": token, "expires_in_s": TTL_S,
            "image": "data:image/png;base64," + base64.b64encode(png).decode()}


def counters() -> Counters:
    """The deployment's shared counters (Redis when configured)."""
    return counters_for(get_settings().redis_url)


def _window(session: Session) -> tuple[int, int]:
    return int(params.get(session, "auth.failure_window_s")), 2


def required(session: Session, kind: str, login_name: str, ip: str | None,
             account_failures: int = 0) -> bool:
    """True when this login must show a captcha."""
    after = int(params.get(session, "auth.captcha_after_failures"))
    if account_failures >= after:
        return True
    window_s, windows = _window(session)
    store = counters()
    if store.total(_name_key(kind, login_name), window_s, windows) >= after:
        return True
    return bool(ip) and store.total(_ip_key(ip), window_s, windows) >= int(
        params.get(session, "auth.captcha_after_ip_failures"))


def check(session: Session, captcha_id: str | None, answer: str | None) -> None:
    """Spend the captcha on this answer; BAD_CAPTCHA unless it is live and right."""
    if not captcha_id or not answer or len(captcha_id) > MAX_TOKEN_LENGTH:
        raise CaptchaRequired() if not captcha_id else BadCaptcha()
    now = clock.now()
    row = session.scalars(select(Captcha).where(Captcha.token_hash == _keyed(captcha_id))
                          .with_for_update()).first()
    if row is None or row.used_at is not None or clock.as_utc(row.expires_at) <= now:
        raise BadCaptcha()
    row.used_at = now
    session.flush()
    if not hmac.compare_digest(row.answer_hash, _keyed(answer.strip().upper()[:LENGTH * 2])):
        raise BadCaptcha()


def count_failure(session: Session, kind: str, login_name: str, ip: str | None) -> None:
    """One more failed login for the name and the address."""
    window_s, windows = _window(session)
    store = counters()
    store.hit(_name_key(kind, login_name), window_s, keep_windows=windows)
    if ip:
        store.hit(_ip_key(ip), window_s, keep_windows=windows)


def guard(session: Session, kind: str, login_name: str, ip: str | None, account_failures: int,
          captcha_id: str | None, answer: str | None) -> None:
    """Before the password is looked at: demand and check the captcha when it is due."""
    if required(session, kind, login_name, ip, account_failures):
        check(session, captcha_id, answer)


def is_captcha_error(error: HpfError) -> bool:
    """Captcha refusals are not password failures: they must not lock the account."""
    return isinstance(error, CaptchaRequired | BadCaptcha)
