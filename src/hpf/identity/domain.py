"""Pure identity rules: roles, login-name shape, the failure counter and lockout."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

# Staff roles (RBAC later maps these to permissions on catalogued services).
ROLES = ("clerk", "reviewer", "approver", "channel_operator", "publisher", "auditor", "admin")
ROLE_NAMES = {
    "clerk": "柜员",
    "reviewer": "审核员",
    "approver": "审批员",
    "channel_operator": "渠道运营员",
    "publisher": "信息发布员",
    "auditor": "审计员",
    "admin": "系统管理员",
}

LOGIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{2,31}$")
# Variants of the interpunct in minority names (阿卜杜·热合曼) typed on different keyboards.
_INTERPUNCTS = str.maketrans({"•": "·", "‧": "·", "・": "·", "．": "·", ".": "·", "･": "·"})


def normalize_name(raw: str) -> str:
    """A person's name as compared with the centre's records: NFKC, no spaces, one interpunct."""
    value = unicodedata.normalize("NFKC", (raw or "").strip().translate(_INTERPUNCTS))
    return re.sub(r"\s+", "", value)


def parse_roles(text: str | None) -> frozenset[str]:
    """Roles stored as a comma-separated string."""
    return frozenset(r for r in (text or "").split(",") if r)


def format_roles(roles: set[str] | frozenset[str]) -> str:
    """Roles in a stable stored form."""
    return ",".join(sorted(roles))


@dataclass(frozen=True)
class FailureState:
    """A user's failed-login counter after one more failure."""

    failed_count: int
    first_failed_at: datetime
    locked_until: datetime | None


def after_failure(failed_count: int, first_failed_at: datetime | None, now: datetime, *,
                  max_failures: int, window_s: int, lockout_s: int) -> FailureState:
    """Count one failure; failures older than the window start a new count.

    The count that reaches `max_failures` inside the window locks the account for `lockout_s`.
    """
    if first_failed_at is None or now - first_failed_at > timedelta(seconds=window_s):
        failed_count, first_failed_at = 0, now
    failed_count += 1
    locked_until = now + timedelta(seconds=lockout_s) if failed_count >= max_failures else None
    return FailureState(failed_count, first_failed_at, locked_until)
