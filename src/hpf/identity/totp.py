"""Time-based one-time passwords (动态口令, RFC 6238) for staff sign-in, with pyotp.

Six digits, thirty-second steps; a code is accepted for its step and one step either side
(clock drift of an authenticator), and a step once used is never accepted again for the same
person (RFC 6238 §5.2), so a code seen over a shoulder cannot be replayed.
"""

import hmac
from typing import Literal

import pyotp

STEP_S = 30
DIGITS = 6
ISSUER = "住房公积金中心"


def new_secret() -> str:
    """A fresh base32 secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, login_name: str) -> str:
    """The otpauth:// URI an authenticator app scans."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S).provisioning_uri(
        name=login_name, issuer_name=ISSUER)


def code_at(secret: str, at_s: float) -> str:
    """The code of the step containing a Unix time."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S).at(int(at_s))


def check(secret: str, code: str, at_s: float,
          last_step: int | None) -> tuple[Literal["ok", "reused", "wrong"], int | None]:
    """Whether a code is good at a time: ("ok", its step), ("reused", None) or ("wrong", None)."""
    if not (len(code) == DIGITS and code.isascii() and code.isdigit()):
        return "wrong", None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S)
    now_step = int(at_s) // STEP_S
    for step in (now_step, now_step - 1, now_step + 1):
        if hmac.compare_digest(totp.at(step * STEP_S), code):
            if last_step is not None and step <= last_step:
                return "reused", None
            return "ok", step
    return "wrong", None
