"""Account administration by staff (用户管理): unlock, disable and enable an account.

An administrator acts at once (a locked-out member at the counter cannot wait for a second
person) and every action is in the audit chain with its reason. Disabling ends the account's
sessions on every channel.
"""

from typing import Literal

from sqlalchemy.orm import Session

from hpf.audit import service as audit
from hpf.gateway.principal import Principal
from hpf.identity import repository
from hpf.identity import service as identity
from hpf.kit.errors import Conflict, Forbidden, InvalidInput, NotFound

Action = Literal["unlock", "disable", "enable"]
ACTION_ZH = {"unlock": "解锁", "disable": "停用", "enable": "启用"}


def set_status(session: Session, staff: Principal, user_id: int, action: str,
               reason: str) -> dict:
    """Unlock, disable or enable an account; returns its new status."""
    if not staff.has_role("admin"):
        raise Forbidden("仅系统管理员可管理账户状态", code="ROLE_REQUIRED", role="admin")
    if action not in ACTION_ZH:
        raise InvalidInput("操作无效", code="INVALID_ACTION")
    reason = (reason or "").strip()
    if not 2 <= len(reason) <= 200:
        raise InvalidInput("请填写原因（2至200字）", code="REASON_REQUIRED")
    user = repository.user_by_id(session, user_id, for_update=True)
    if user is None:
        raise NotFound("账户不存在", code="NO_ACCOUNT")
    if user.id == staff.user_id:
        raise Forbidden("不能变更自己账户的状态", code="OWN_ACCOUNT")
    wanted = {"unlock": ("locked", "active"), "disable": (None, "disabled"),
              "enable": ("disabled", "active")}[action]
    if (wanted[0] is not None and user.status != wanted[0]) or user.status == wanted[1]:
        raise Conflict(f"账户当前状态不能{ACTION_ZH[action]}", code="ACCOUNT_STATE",
                       state=user.status)
    user.status = wanted[1]
    user.failed_count = 0
    user.first_failed_at = None
    user.locked_until = None
    ended = identity.revoke_sessions(session, user.id, "disabled") if action == "disable" else 0
    session.flush()
    audit.record(session, f"account.{action}", "success", actor_kind=staff.kind,
                 actor_id=staff.user_id, actor_name=staff.name, target=user.kind,
                 detail={"user_id": user.id, "reason": reason, "sessions_ended": ended})
    return {"user_id": user.id, "status": user.status, "sessions_ended": ended}
