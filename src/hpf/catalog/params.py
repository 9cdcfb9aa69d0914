"""Dated parameters (参数): every rate and threshold has an effective date.

Defaults below are the demo city's (domain-rules). A centre changes a value by adding a row
with a later effective date; the history stays, so past calculations can be explained.
"""

import json
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
}


def get(session: Session, key: str, on: date | None = None) -> Any:
    """The value of a parameter in force on a date (default: today)."""
    on = on or clock.today()
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
    row = ParamValue(key=key, effective_from=effective_from, value_json=json.dumps(value),
                     note=DEFAULTS[key][0], created_by=created_by)
    session.add(row)
    session.flush()
    return row
