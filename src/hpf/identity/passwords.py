"""Password hashing (argon2id through argon2-cffi) and the password policy."""

import re
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from hpf.kit.errors import InvalidInput

MIN_LENGTH = 8
MAX_LENGTH = 64
# Longer input is refused before hashing: argon2 cost grows with the input.
MAX_INPUT_LENGTH = 128

# argon2id with the library's RFC 9106 low-memory profile (64 MiB, 3 passes).
DEFAULT_HASHER = PasswordHasher()
_hasher = DEFAULT_HASHER


def hash_password(password: str) -> str:
    """The argon2id hash (PHC string, salt and parameters included) of a password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches the hash; any malformed hash is a mismatch."""
    if len(password) > MAX_INPUT_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("not-a-real-password-0")


def burn_verify(password: str) -> None:
    """Spend the time of one verification, so an unknown login name answers no faster."""
    verify_password(_dummy_hash(), password)


def policy_problem(password: str, *, id_number: str | None = None,
                   login_name: str | None = None) -> str | None:
    """The Chinese reason a new password is refused, or None when it is acceptable."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return f"密码长度应为{MIN_LENGTH}至{MAX_LENGTH}位"
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        return "密码不能包含控制字符"
    if not re.search(r"[A-Za-z]", password) or not re.search(r"[0-9]", password):
        return "密码须同时包含字母和数字"
    lowered = password.lower()
    if id_number and lowered == id_number.lower():
        return "密码不能与身份证号码相同"
    if login_name and lowered == login_name.lower():
        return "密码不能与登录名相同"
    return None


def check_policy(password: str, *, id_number: str | None = None,
                 login_name: str | None = None) -> None:
    """Raise WEAK_PASSWORD when a new password breaks the policy."""
    problem = policy_problem(password, id_number=id_number, login_name=login_name)
    if problem:
        raise InvalidInput(problem, code="WEAK_PASSWORD")
