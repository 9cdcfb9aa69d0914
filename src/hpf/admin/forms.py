"""From a posted form to a management change's parameters, and its errors back in Chinese.

A form sends amounts in yuan, times as typed in the browser (local time) and checkboxes; the
management changes (hpf.catalog.management) take fen, aware times and booleans. Their Params
models hold the ranges; this module asks the model first, with the limits in hand, so a value
out of range is told in Chinese next to its field, before anything is stored.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import InvalidOperation
from typing import Any

from pydantic import ValidationError

from hpf.gateway import registry
from hpf.kit import clock
from hpf.kit.money import format_yuan, yuan_to_fen

LABELS = {
    "channel": "渠道", "open": "开启或关闭", "reason": "原因", "service": "业务",
    "visits_per_s": "每秒访问阈值", "visits_per_min": "每分钟访问阈值",
    "tx_per_s": "每秒交易阈值", "tx_per_min": "每分钟交易阈值", "auto_close": "自动关闭",
    "error_rate_bps": "错误率阈值（万分之）", "error_window_min": "统计时长（分钟）",
    "error_min_calls": "最少调用次数", "cooldown_min": "冷却时间（分钟）",
    "days": "服务日", "opens": "开始时间", "closes": "结束时间", "enabled": "是否开通",
    "min_fen": "单笔最低限额（元）", "max_fen": "单笔最高限额（元）",
    "daily_max_fen": "当日累计限额（元）", "starts_at": "维护开始时间", "ends_at": "维护结束时间",
    "key": "参数", "effective_from": "生效日期", "value": "取值",
    # Withdrawal applications (提取申请) in the approval queue.
    "member_no": "个人账号", "amount_fen": "金额（分）", "bank_code": "收款银行",
    "card_no": "银行卡号", "contract_no": "购房合同编号", "cert_no": "不动产权证号",
    "invoice_nos": "发票号码", "loan_contract_no": "贷款合同编号",
    "illness_record_no": "病历编号", "rent_months": "租房月数",
    "schedule_months": "约定提取月数", "materials": "申请材料", "heir_name": "继承人",
    "heir_id_number": "继承人身份证号",
    # Disputed payouts (付款争议处理).
    "application_no": "业务流水号", "outcome": "处理方式", "bank_txn_id": "银行流水号",
}
# Form field (in yuan) -> parameter (in fen).
YUAN_FIELDS = {"min_yuan": "min_fen", "max_yuan": "max_fen", "daily_max_yuan": "daily_max_fen"}
DATETIME_FIELDS = ("starts_at", "ends_at")
CHECKBOXES = ("auto_close", "enabled")


@dataclass
class Problems:
    """Errors of a form: by form field, and those of the whole form."""

    fields: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)

    def summary(self) -> list[str]:
        """Every problem as one Chinese line, field by field."""
        lines = [f"{LABELS.get(param_of(k), k)}：{v}" for k, v in self.fields.items()]
        return lines + self.general


def param_of(form_field: str) -> str:
    """The parameter a form field feeds."""
    return YUAN_FIELDS.get(form_field, form_field)


def form_field_of(param: str) -> str:
    """The form field that feeds a parameter."""
    return next((k for k, v in YUAN_FIELDS.items() if v == param), param)


def _bound(name: str, value: Any) -> str:
    if name.endswith("_fen") and isinstance(value, int):
        return format_yuan(value) + "元"
    return str(value)


def message_zh(error: dict, name: str = "") -> str:
    """One pydantic error in Chinese (custom validators already speak Chinese)."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing":
        return "必须填写"
    if kind in ("greater_than_equal", "greater_than"):
        limit = ctx.get("ge", ctx.get("gt"))
        return f"不能小于{_bound(name, limit)}" if kind.endswith("equal") \
            else f"须大于{_bound(name, limit)}"
    if kind in ("less_than_equal", "less_than"):
        limit = ctx.get("le", ctx.get("lt"))
        return f"不能大于{_bound(name, limit)}" if kind.endswith("equal") \
            else f"须小于{_bound(name, limit)}"
    if kind.startswith("int_"):
        return "须为整数"
    if kind == "string_too_short":
        return f"至少{ctx.get('min_length')}个字符"
    if kind == "string_too_long":
        return f"最多{ctx.get('max_length')}个字符"
    if kind in ("literal_error", "enum"):
        return "取值无效"
    if kind.startswith("bool"):
        return "须为是或否"
    if kind.startswith("time"):
        return "时间格式应为 时:分，例如 09:00"
    if kind.startswith("datetime") or kind.startswith("date"):
        return "日期时间格式有误"
    if kind == "extra_forbidden":
        return "不接受此项"
    if kind == "value_error":
        return str(error.get("msg", "")).removeprefix("Value error, ") or "输入有误"
    return "输入有误"


def to_params(form: dict[str, str], names: tuple[str, ...]) -> tuple[dict[str, Any], Problems]:
    """The parameters named `names` from a form: blanks left out, yuan to fen, local times
    made aware, checkboxes to booleans; with the problems of conversion."""
    params: dict[str, Any] = {}
    problems = Problems()
    for name in names:
        source = form_field_of(name)
        if name in CHECKBOXES:
            params[name] = form.get(source) in ("on", "1", "true")
            continue
        raw = (form.get(source) or "").strip()
        if raw == "":
            continue
        if source in YUAN_FIELDS:
            try:
                params[name] = yuan_to_fen(raw)
            except (InvalidOperation, ValueError):
                problems.fields[source] = "金额格式有误（元，最多两位小数）"
        elif name in DATETIME_FIELDS:
            try:
                moment = datetime.fromisoformat(raw)
            except ValueError:
                problems.fields[source] = "日期时间格式有误"
                continue
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=clock.LOCAL_TZ)
            params[name] = moment.isoformat()
        elif name == "open":
            params[name] = raw in ("1", "true", "on")
        else:
            params[name] = raw
    return params, problems


def check_change(code: str, params: dict[str, Any]) -> Problems:
    """Validate a management change's parameters as submit() will, with Chinese messages."""
    op = registry.management(code)
    problems = Problems()
    if op is None:
        problems.general.append("没有这项管理操作")
        return problems
    try:
        op.handler.params.model_validate(params)
    except ValidationError as exc:
        for error in exc.errors(include_url=False, include_input=False):
            loc = [str(p) for p in error.get("loc", ())]
            name = loc[0] if loc else ""
            text = message_zh(error, name)
            if name:
                problems.fields.setdefault(form_field_of(name), text)
            else:
                problems.general.append(text)
    return problems
