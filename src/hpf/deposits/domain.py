"""Pure deposit (归集) rules of domain-rules §3: amounts, ratios, bases, months, arrears."""

from dataclasses import dataclass

from hpf.kit.clock import add_months, months_between
from hpf.kit.errors import InvalidInput
from hpf.kit.money import MAX_AMOUNT_FEN, percent_of

# Employer fields whose change needs multi-level approval (seed 000 附件3 dep-2).
KEY_EMPLOYER_FIELDS = frozenset({"name", "uscc", "legal_rep", "bank_code"})
# Member fields that never change online (domain-rules §1): counter with approval only.
IDENTITY_FIELDS = frozenset({"name", "id_type", "id_number"})

# Commissioned banks (委托银行) of the demo city: code -> name.
BANKS = {
    "ICBC": "中国工商银行", "ABC": "中国农业银行", "BOC": "中国银行", "CCB": "中国建设银行",
    "BOCOM": "交通银行", "PSBC": "中国邮政储蓄银行",
}


@dataclass(frozen=True)
class MonthlyAmount:
    """A member's monthly deposit: the employer's part, the member's part and the total."""

    unit_fen: int
    member_fen: int

    @property
    def total_fen(self) -> int:
        """Both parts together."""
        return self.unit_fen + self.member_fen


def monthly_amount(base_fen: int, unit_ratio_bps: int, member_ratio_bps: int,
                   rounding_unit: str = "yuan") -> MonthlyAmount:
    """Each part = round(base × ratio) to the rounding unit, separately (seed 003: 704 + 704)."""
    return MonthlyAmount(percent_of(base_fen, unit_ratio_bps, rounding_unit),
                         percent_of(base_fen, member_ratio_bps, rounding_unit))


def check_ratio(ratio_bps: int, min_bps: int, max_bps: int, field: str = "ratio") -> int:
    """Refuse a deposit ratio outside the city's range (5%-12% by default)."""
    if not min_bps <= ratio_bps <= max_bps:
        raise InvalidInput(
            f"缴存比例须在{min_bps / 100:g}%至{max_bps / 100:g}%之间",
            code="RATIO_OUT_OF_RANGE", field=field, min_bps=min_bps, max_bps=max_bps,
        )
    return ratio_bps


def check_base(base_fen: int, floor_fen: int, cap_fen: int) -> int:
    """Refuse a contribution base below the minimum wage or above 3× the average wage."""
    if base_fen <= 0 or base_fen > MAX_AMOUNT_FEN:
        raise InvalidInput("缴存基数必须为正数", code="INVALID_AMOUNT")
    if base_fen < floor_fen:
        raise InvalidInput(f"缴存基数不得低于最低工资标准{floor_fen / 100:.2f}元",
                           code="BASE_BELOW_FLOOR", floor_fen=floor_fen)
    if base_fen > cap_fen:
        raise InvalidInput(f"缴存基数不得高于上限{cap_fen / 100:.2f}元",
                           code="BASE_ABOVE_CAP", cap_fen=cap_fen)
    return base_fen


def check_period(period: int, current_month: int) -> int:
    """Refuse a malformed month or one in the future (YYYYMM)."""
    if not (190001 <= period <= 999912 and 1 <= period % 100 <= 12):
        raise InvalidInput("年月格式应为YYYYMM", code="INVALID_MONTH")
    if period > current_month:
        raise InvalidInput("不能办理未来月份的缴存", code="MONTH_IN_FUTURE")
    return period


def next_due_month(first_month: int, paid_through: int | None) -> int:
    """The month the next remittance must cover."""
    return first_month if paid_through is None else add_months(paid_through, 1)


def arrears_months(first_month: int, paid_through: int | None, current_month: int,
                   deferred: tuple[int, int] | None = None) -> list[int]:
    """Months owed before the current month (the current month is not yet overdue).

    Months inside an approved deferral (缓缴) are not arrears.
    """
    start = next_due_month(first_month, paid_through)
    months = []
    m = start
    while months_between(m, current_month) > 0:
        if not (deferred and deferred[0] <= m <= deferred[1]):
            months.append(m)
        m = add_months(m, 1)
    return months


def base_adjust_levels(old_base_fen: int, new_base_fen: int, adjusted_this_year: bool,
                       levels: int) -> int:
    """Approvals for a base change: a downward or repeat adjustment needs them (附件3 dep-4)."""
    return levels if new_base_fen < old_base_fen or adjusted_this_year else 0


def retire_group(gender: str, declared: str | None = None) -> str:
    """Statutory retirement group: men M60; women F55 unless the record says F50 (§7)."""
    if gender == "M":
        return "M60"
    if declared in ("F50", "F55"):
        return declared
    return "F55"
