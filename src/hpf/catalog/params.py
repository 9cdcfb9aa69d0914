"""Dated parameters (参数): every rate and threshold has an effective date.

Defaults below are the demo city's (domain-rules). A centre changes a value by adding a row
with a later effective date; the history stays, so past calculations can be explained.
"""

import copy
import json
import threading
import time
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.catalog.models import ParamValue
from hpf.kit import clock

# key -> [(effective_from, value)], plus a Chinese description.
DEFAULTS: dict[str, tuple[str, list[tuple[date, Any]]]] = {
    "interest.annual_rate_ppm": (
        "住房公积金存款年利率（百万分之）", [(date(2016, 2, 21), 15_000)]),
    "deposit.ratio_min_bps": ("缴存比例下限（万分之）", [(date(2000, 1, 1), 500)]),
    "deposit.ratio_max_bps": ("缴存比例上限（万分之）", [(date(2000, 1, 1), 1200)]),
    "deposit.rounding_unit": ("月缴存额舍入单位 fen/jiao/yuan", [(date(2000, 1, 1), "yuan")]),
    "deposit.base_floor_fen": ("缴存基数下限（最低工资，分）", [
        (date(2022, 7, 1), 190_000), (date(2024, 7, 1), 200_000), (date(2025, 7, 1), 210_000)]),
    "deposit.base_cap_fen": ("缴存基数上限（社平工资3倍，分）", [
        (date(2022, 7, 1), 2_700_000), (date(2024, 7, 1), 2_880_000),
        (date(2025, 7, 1), 3_000_000)]),
    "deposit.base_adjust_month": ("年度基数调整生效月份", [(date(2000, 1, 1), 7)]),
    "deposit.flexible_ratio_min_bps": ("灵活就业缴存比例下限（合计，万分之）",
                                       [(date(2000, 1, 1), 1000)]),
    "deposit.flexible_ratio_max_bps": ("灵活就业缴存比例上限（合计，万分之）",
                                       [(date(2000, 1, 1), 2400)]),
    "deposit.supplement_max_months": ("补缴最长月数", [(date(2000, 1, 1), 60)]),
    "deposit.defer_max_months": ("缓缴最长月数", [(date(2000, 1, 1), 12)]),
    "approval.key_change_levels": ("重要信息变更审批级数", [(date(2000, 1, 1), 2)]),
    "approval.default_levels": ("一般审核级数", [(date(2000, 1, 1), 1)]),
    "otp.ttl_s": ("短信验证码有效期（秒）", [(date(2000, 1, 1), 300)]),
    "otp.resend_interval_s": ("同一手机号获取验证码最短间隔（秒）", [(date(2000, 1, 1), 60)]),
    "otp.daily_max": ("同一手机号每日最多获取验证码次数", [(date(2000, 1, 1), 10)]),
    "otp.max_attempts": ("验证码最多可输错次数", [(date(2000, 1, 1), 5)]),
    "auth.max_failures": ("连续登录失败锁定次数", [(date(2000, 1, 1), 5)]),
    "auth.failure_window_s": ("登录失败计数时间窗（秒）", [(date(2000, 1, 1), 900)]),
    "auth.lockout_s": ("登录失败锁定时长（秒）", [(date(2000, 1, 1), 900)]),
    "identity.operator_certificate_required": ("单位与开发企业经办人须使用数字证书登录（true/false）",
                                               [(date(2000, 1, 1), False)]),
    "auth.captcha_after_failures": ("同一账户登录失败几次后须输入图形验证码",
                                    [(date(2000, 1, 1), 2)]),
    "auth.captcha_after_ip_failures": ("同一地址登录失败几次后须输入图形验证码",
                                       [(date(2000, 1, 1), 10)]),
    "security.step_up_services": ("须短信验证码确认的敏感业务（逗号分隔；资金转出业务总是需要）",
                                  [(date(2000, 1, 1), "acct.unbind,acct.phone_change")]),
    "risk.phone_change_hold_h": ("更换手机号后多少小时内资金转出须人工复核", [(date(2000, 1, 1), 24)]),
    "risk.failed_logins_alert": ("连续失败几次后登录成功即预警", [(date(2000, 1, 1), 3)]),
    "risk.applications_per_ip_hour": ("同一地址每小时业务申请预警阈值", [(date(2000, 1, 1), 30)]),
    "consent.validity_days": ("数据共享授权有效期（天）", [(date(2000, 1, 1), 365)]),
    "withdrawal.min_balance_fen": ("部分提取后账户须保留的最低余额（分）",
                                   [(date(2000, 1, 1), 1_000)]),
    "withdrawal.rent_monthly_cap_fen": ("租房提取每人每月限额（分）", [(date(2000, 1, 1), 150_000)]),
    "withdrawal.property_fee_cap_fen_per_m2_month": ("物业费提取每平方米每月限额（分）",
                                                     [(date(2000, 1, 1), 200)]),
    "withdrawal.purchase_window_months": ("购房后可申请提取的期限（月）", [(date(2000, 1, 1), 24)]),
    "withdrawal.non_local_sealed_months": ("非本市户口离职提取须封存月数", [(date(2000, 1, 1), 6)]),
    "materials.unused_retention_days": ("未用于业务申请的上传材料保留天数（逾期由清理作业删除）",
                                        [(date(2000, 1, 1), 30)]),
}


# What a staff change may set (checked when the change is submitted, hpf.catalog.management):
# integer bounds, the choices of a text value, and lists of catalogue codes.
BOUNDS: dict[str, tuple[int, int]] = {
    "interest.annual_rate_ppm": (0, 100_000),
    "deposit.ratio_min_bps": (100, 1200), "deposit.ratio_max_bps": (500, 2400),
    "deposit.base_floor_fen": (50_000, 10_000_000), "deposit.base_cap_fen": (100_000, 100_000_000),
    "deposit.base_adjust_month": (1, 12),
    "deposit.flexible_ratio_min_bps": (100, 2400), "deposit.flexible_ratio_max_bps": (500, 4800),
    "deposit.supplement_max_months": (1, 240), "deposit.defer_max_months": (1, 36),
    "approval.key_change_levels": (1, 3), "approval.default_levels": (1, 3),
    "otp.ttl_s": (60, 1800), "otp.resend_interval_s": (0, 600), "otp.daily_max": (1, 100),
    "otp.max_attempts": (1, 10),
    "auth.max_failures": (3, 20), "auth.failure_window_s": (60, 86_400),
    "auth.lockout_s": (60, 86_400),
    "auth.captcha_after_failures": (0, 20), "auth.captcha_after_ip_failures": (1, 1000),
    "risk.phone_change_hold_h": (0, 720), "risk.failed_logins_alert": (1, 100),
    "risk.applications_per_ip_hour": (1, 100_000), "consent.validity_days": (1, 3650),
    "withdrawal.min_balance_fen": (0, 10_000_000), "withdrawal.rent_monthly_cap_fen": (0, 10_000_000),
    "withdrawal.property_fee_cap_fen_per_m2_month": (0, 100_000),
    "withdrawal.purchase_window_months": (1, 120), "withdrawal.non_local_sealed_months": (0, 60),
    # At least a week: a member uploads first and applies later, perhaps after a weekend.
    "materials.unused_retention_days": (7, 3650),
}
CHOICES: dict[str, tuple[str, ...]] = {"deposit.rounding_unit": ("fen", "jiao", "yuan")}
CODE_LISTS = ("security.step_up_services",)


def check_value(key: str, value: Any) -> Any:
    """The value a change may set for a parameter, or ValueError with the reason (Chinese)."""
    if key not in DEFAULTS:
        raise ValueError(f"没有参数 {key}")
    default = DEFAULTS[key][1][-1][1]
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError("该参数只能是 true 或 false")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("该参数须为整数")
        lo, hi = BOUNDS[key]
        if not lo <= value <= hi:
            raise ValueError(f"该参数的取值范围为 {lo} 至 {hi}")
        return value
    if not isinstance(value, str) or len(value) > 500:
        raise ValueError("该参数须为500字以内的文字")
    if key in CHOICES and value not in CHOICES[key]:
        raise ValueError("该参数只能取：" + "、".join(CHOICES[key]))
    if key in CODE_LISTS:
        from hpf.catalog import domain as catalog

        codes = [c.strip() for c in value.split(",") if c.strip()]
        unknown = [c for c in codes if catalog.get(c) is None]
        if unknown:
            raise ValueError("目录中没有业务：" + "、".join(unknown[:5]))
        return ",".join(codes)
    return value


# Values read in the last few seconds, per database: every gateway call reads several
# parameters, and they change a few times a year. A change made here clears the cache at once;
# another process sees it within CACHE_TTL_S (dated values take effect on a day, not a second).
CACHE_TTL_S = 5.0
MAX_CACHED = 10_000
_cache: dict[tuple[str, str, date], tuple[float, Any]] = {}
_cache_lock = threading.Lock()


def clear_cache() -> None:
    """Forget cached values (after a change, or in tests that write rows directly)."""
    with _cache_lock:
        _cache.clear()


def _copy(value: Any) -> Any:
    # A caller may change a list or dict it got; the cached one must not change with it.
    return copy.deepcopy(value) if isinstance(value, dict | list) else value


def get(session: Session, key: str, on: date | None = None) -> Any:
    """The value of a parameter in force on a date (default: today)."""
    on = on or clock.today()
    cache_key = (str(session.get_bind().url), key, on)
    now = time.monotonic()
    hit = _cache.get(cache_key)
    if hit is not None and now - hit[0] < CACHE_TTL_S:
        return _copy(hit[1])
    value = _lookup(session, key, on)
    with _cache_lock:
        if len(_cache) >= MAX_CACHED:
            _cache.clear()
        _cache[cache_key] = (now, value)
    return _copy(value)


def _lookup(session: Session, key: str, on: date) -> Any:
    row = session.scalars(
        select(ParamValue)
        .where(ParamValue.key == key, ParamValue.effective_from <= on)
        .order_by(ParamValue.effective_from.desc())
        .limit(1)
    ).first()
    if row is not None:
        return json.loads(row.value_json)
    if key not in DEFAULTS:
        raise KeyError(key)
    history = [v for since, v in sorted(DEFAULTS[key][1]) if since <= on]
    if not history:
        raise KeyError(f"{key} has no value on {on}")
    return history[-1]


def history(session: Session, key: str) -> list[tuple[date, Any]]:
    """Every (effective_from, value) of a parameter, stored rows over defaults."""
    rows = session.scalars(
        select(ParamValue).where(ParamValue.key == key).order_by(ParamValue.effective_from)
    ).all()
    if rows:
        return [(r.effective_from, json.loads(r.value_json)) for r in rows]
    return sorted(DEFAULTS[key][1])


def seed_defaults(session: Session) -> None:
    """Write the default values as rows so staff can see and change them."""
    clear_cache()
    have = {(k, d) for k, d in session.execute(select(ParamValue.key, ParamValue.effective_from))}
    for key, (note, values) in DEFAULTS.items():
        for since, value in values:
            if (key, since) not in have:
                session.add(ParamValue(key=key, effective_from=since,
                                       value_json=json.dumps(value), note=note))
    session.flush()


def set_value(session: Session, key: str, effective_from: date, value: Any,
              created_by: int | None = None) -> ParamValue:
    """Add a dated value (maker-checker is applied by the caller)."""
    if key not in DEFAULTS:
        raise KeyError(key)
    clear_cache()
    row = ParamValue(key=key, effective_from=effective_from, value_json=json.dumps(value),
                     note=DEFAULTS[key][0], created_by=created_by)
    session.add(row)
    session.flush()
    return row
