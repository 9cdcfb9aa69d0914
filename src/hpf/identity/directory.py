"""The staff console's view of accounts and of the login log (用户管理, 登录日志).

Read-only lists, newest first, one page at a time by keyset (`before` an id): the tables grow
with every member and every login, so an offset would get slower page by page. ID numbers
and phones leave this module masked.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hpf.deposits.models import Member
from hpf.identity import repository
from hpf.identity.domain import ROLE_NAMES, parse_roles
from hpf.identity.models import KINDS, LoginEvent, UserAccount
from hpf.kit.errors import InvalidInput
from hpf.kit.ids import mask_id_number, mask_phone, normalize_id_number

PAGE_SIZE = 50
MAX_QUERY_CHARS = 64
KIND_NAMES = {"member": "个人", "unit": "单位经办人", "developer": "开发商经办人", "staff": "工作人员"}
STATUS_NAMES = {"active": "正常", "locked": "已锁定", "disabled": "已停用"}


@dataclass(frozen=True)
class Page:
    """One page of a list and where the next one starts (None: this is the last)."""

    items: list[dict]
    next_before: int | None


def _login_shown(kind: str, login_name: str, id_number: str | None) -> str:
    """A member logs in with the ID number (stored as its blind index): shown masked from the
    member record; others' login names are not personal data."""
    if kind == "member":
        return mask_id_number(id_number) if id_number else "—"
    return login_name


def _page(rows: list, limit: int, convert) -> Page:
    more = len(rows) > limit
    rows = rows[:limit]
    return Page([convert(*r) for r in rows], rows[-1][0].id if more and rows else None)


def _check(kind: str | None, query: str | None) -> tuple[str | None, str]:
    if kind is not None and kind not in KINDS:
        raise InvalidInput("未知的用户类型", code="UNKNOWN_USER_KIND")
    query = (query or "").strip()
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(f"查询内容最多{MAX_QUERY_CHARS}个字符", code="QUERY_TOO_LONG")
    return kind, query


def _login_filter(session: Session, column, user_column, query: str):
    """A login-name filter: a whole ID number finds the member's account (through the
    member record: the login name holds only a blind index), anything else matches a login
    name by prefix."""
    try:
        id18 = normalize_id_number(query)
    except InvalidInput:
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return column.like(f"{escaped}%", escape="\\")
    member = repository.member_by_id_number(session, id18)
    user = repository.user_by_member(session, member.id) if member else None
    return user_column == (user.id if user else -1)


def accounts(session: Session, *, kind: str | None = None, query: str | None = None,
             before: int | None = None, limit: int = PAGE_SIZE) -> Page:
    """Accounts, newest first, filtered by kind and by login name (prefix) or display name."""
    kind, query = _check(kind, query)
    stmt = (select(UserAccount, Member.id_number)
            .outerjoin(Member, Member.id == UserAccount.member_id)
            .order_by(UserAccount.id.desc()).limit(limit + 1))
    if kind:
        stmt = stmt.where(UserAccount.kind == kind)
    if query:
        stmt = stmt.where(or_(_login_filter(session, UserAccount.login_name, UserAccount.id,
                                            query),
                              UserAccount.display_name == query))
    if before is not None:
        stmt = stmt.where(UserAccount.id < before)
    return _page(session.execute(stmt).all(), limit, _account)


def _account(user: UserAccount, id_number: str | None) -> dict:
    roles = sorted(parse_roles(user.roles))
    return {
        "id": user.id, "kind": user.kind, "kind_zh": KIND_NAMES.get(user.kind, user.kind),
        "login": _login_shown(user.kind, user.login_name, id_number), "name": user.display_name,
        "phone": mask_phone(user.phone) if user.phone else "",
        "status": user.status, "status_zh": STATUS_NAMES.get(user.status, user.status),
        "locked_until": user.locked_until, "failed_count": user.failed_count,
        "roles": [ROLE_NAMES.get(r, r) for r in roles], "last_login_at": user.last_login_at,
        "totp": user.totp_secret_enc is not None,
    }


def login_events(session: Session, *, query: str | None = None, outcome: str | None = None,
                 kind: str | None = None, since: datetime | None = None,
                 until: datetime | None = None, before: int | None = None,
                 limit: int = PAGE_SIZE) -> Page:
    """Login attempts, newest first, filtered by login name (prefix), outcome, kind and time."""
    kind, query = _check(kind, query)
    if outcome is not None and outcome not in ("success", "failure"):
        raise InvalidInput("结果只能是成功或失败", code="INVALID_OUTCOME")
    stmt = (select(LoginEvent, Member.id_number)
            .outerjoin(UserAccount, UserAccount.id == LoginEvent.user_id)
            .outerjoin(Member, Member.id == UserAccount.member_id)
            .order_by(LoginEvent.id.desc()).limit(limit + 1))
    if kind:
        stmt = stmt.where(LoginEvent.kind == kind)
    if query:
        stmt = stmt.where(_login_filter(session, LoginEvent.login_name, LoginEvent.user_id,
                                        query))
    if outcome:
        stmt = stmt.where(LoginEvent.outcome == outcome)
    if since is not None:
        stmt = stmt.where(LoginEvent.created_at >= since)
    if until is not None:
        stmt = stmt.where(LoginEvent.created_at < until)
    if before is not None:
        stmt = stmt.where(LoginEvent.id < before)
    return _page(session.execute(stmt).all(), limit, _event)


def _event(e: LoginEvent, id_number: str | None) -> dict:
    return {"id": e.id, "at": e.created_at, "kind_zh": KIND_NAMES.get(e.kind, e.kind),
            "login": _login_shown(e.kind, e.login_name, id_number), "channel": e.channel,
            "outcome": e.outcome, "reason": e.reason, "ip": e.ip or ""}
