"""Risk rules as pure functions: what was seen in, a finding (or None) out."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

RULES = {
    "phone_change_money_out": "更换手机号后短期内申请资金转出",
    "failed_logins_then_success": "多次登录失败后登录成功",
    "busy_address": "同一地址短时间内大量业务申请",
}

# Signals that change how a person is reached or signs in: each sends an account notice.
SECURITY_SIGNALS = {
    "phone_changed": "您的预留手机号码已变更",
    "password_reset": "您的登录密码已重置",
    "password_changed": "您的登录密码已修改",
    "binding_added": "您的账户已绑定新的渠道账号",
    "binding_removed": "您的账户已解除渠道账号绑定",
    "sms_signed": "您已签约12329短信通知服务",
    "sms_unsigned": "您已解约12329短信通知服务",
}


@dataclass(frozen=True)
class Finding:
    """A rule that fired: whether it holds the application, and what staff read."""

    rule: str
    hold: bool
    message: str
    detail: dict[str, Any] = field(default_factory=dict)


def phone_change_money_out(last_change: datetime | None, now: datetime, hold_h: int,
                           money_out: bool) -> Finding | None:
    """Money out within `hold_h` hours of a phone change: hold for a reviewer."""
    if not money_out or last_change is None or now - last_change > timedelta(hours=hold_h):
        return None
    hours = max(0, int((now - last_change).total_seconds() // 3600))
    return Finding("phone_change_money_out", True,
                   f"{hold_h}小时内更换过手机号码（{hours}小时前），资金转出转人工复核",
                   {"changed_at": last_change.isoformat(), "hold_h": hold_h})


def failed_logins_then_success(failures_before: int, threshold: int) -> Finding | None:
    """A login that succeeds after `threshold` or more failures: an alert, and a notice."""
    if failures_before < threshold:
        return None
    return Finding("failed_logins_then_success", False,
                   f"连续{failures_before}次登录失败后登录成功", {"failures": failures_before})


def busy_address(applications_in_hour: int, threshold: int, money_out: bool) -> Finding | None:
    """Many applications from one address in an hour: an alert; money out is held."""
    if applications_in_hour <= threshold:
        return None
    return Finding("busy_address", money_out,
                   f"同一地址1小时内业务申请{applications_in_hour}笔（阈值{threshold}）",
                   {"count": applications_in_hour, "threshold": threshold})
