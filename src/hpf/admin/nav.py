"""The console's pages and the staff roles that may open each (administrators open all).

One table: the navigation shows what a role may use, and each page's route checks the same
roles server-side (hpf.admin.web.need). Actions inside a page may need more (submitting a
management change needs the change's role; approving needs a reviewer or approver).
"""

from dataclasses import dataclass

from hpf.gateway.principal import Principal


@dataclass(frozen=True)
class Page:
    """A console page: key, Chinese title, path under /console, roles (empty: any staff)."""

    key: str
    title: str
    path: str
    roles: tuple[str, ...]


NAV = (
    Page("home", "首页", "", ()),
    Page("channels", "渠道管理", "/channels", ("channel_operator", "approver", "auditor")),
    Page("services", "服务部署", "/services", ("channel_operator", "approver", "auditor")),
    Page("params", "参数", "/params", ()),
    Page("approvals", "审批", "/approvals", ("reviewer", "approver")),
    Page("risk", "风险预警", "/risk", ("reviewer", "approver", "auditor")),
    Page("users", "用户", "/users", ("auditor",)),
    Page("certificates", "证书", "/certificates", ("auditor",)),
    Page("audit", "审计", "/audit", ("auditor",)),
    Page("sms", "短信", "/sms", ("clerk", "auditor")),
    Page("logins", "登录日志", "/logins", ("auditor",)),
)


def may_open(staff: Principal, page: Page) -> bool:
    """True when a staff member may open a page."""
    return staff.is_staff and (not page.roles or any(staff.has_role(r) for r in page.roles))


def visible(staff: Principal) -> list[Page]:
    """The pages a staff member's navigation shows."""
    return [p for p in NAV if may_open(staff, p)]
