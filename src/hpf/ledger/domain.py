"""Pure ledger rules: sides, the chart of accounts, voucher balance and interest maths."""

from dataclasses import dataclass
from datetime import date

from hpf.kit.money import MAX_AMOUNT_FEN, round_half_up

DEBIT = "D"
CREDIT = "C"

# Chart of accounts (会计科目) of a fund centre, after the fund accounting rules (住房公积金会计
# 核算办法), trimmed to what the platform posts. Codes are stable: exports and reports use them.
# (code, Chinese name, English name, normal side, kind)
CHART = (
    ("1011", "住房公积金存款-委托银行结算户", "Fund deposits at commissioned banks", DEBIT, "asset"),
    ("1021", "待清算款项", "Funds in clearing (inter-city transfers in transit)", DEBIT, "asset"),
    ("1210", "委托贷款", "Entrusted loans (room for the loan ledger)", DEBIT, "asset"),
    ("2010", "住房公积金", "Member deposits (sub-ledger per member)", CREDIT, "liability"),
    ("2110", "暂收款-单位", "Employer suspense: receipts awaiting matching", CREDIT, "liability"),
    ("2120", "暂收款-其他", "Other suspense: receipts from unknown payers", CREDIT, "liability"),
    ("2190", "待划转款项", "Payouts awaiting the bank (transfers out, withdrawals)", CREDIT, "liability"),
    ("4010", "委托贷款利息收入", "Loan interest income (room for the loan ledger)", CREDIT, "income"),
    ("5010", "住房公积金利息支出", "Interest expense on member deposits", DEBIT, "expense"),
)
MEMBER_DEPOSITS = "2010"
BANK_SETTLEMENT = "1011"
CLEARING = "1021"
EMPLOYER_SUSPENSE = "2110"
OTHER_SUSPENSE = "2120"
PAYOUT_PENDING = "2190"
INTEREST_EXPENSE = "5010"

# Entry types (业务类型) shown on statements; codes are stable.
ENTRY_TYPES = {
    "remit": "汇缴",
    "supplement": "补缴",
    "flexible": "灵活就业缴存",
    "interest": "公积金结息",
    "carry_over": "上年结转",
    "transfer_in": "异地转入",
    "transfer_out": "异地转出",
    "transfer_local": "同城转移",
    "withdrawal": "提取",
    "withdrawal_paid": "提取付款",
    "withdrawal_return": "提取退回",
    "close_interest": "销户结息",
    "receipt": "收款",
    "suspense_match": "暂收款核销",
    "reversal": "冲正",
}


def normal_sign(normal_side: str, side: str) -> int:
    """+1 when a posting on `side` increases a balance whose normal side is `normal_side`."""
    return 1 if side == normal_side else -1


@dataclass(frozen=True)
class Line:
    """One voucher line: an account, a side and a positive amount in fen."""

    account_id: int
    side: str
    amount_fen: int
    period: int | None = None
    memo: str | None = None


class UnbalancedVoucher(ValueError):
    """Debits and credits of a voucher differ, or a line is malformed."""


def check_lines(lines: list[Line]) -> int:
    """Validate voucher lines; return the voucher total (debits == credits)."""
    if len(lines) < 2:
        raise UnbalancedVoucher("a voucher needs at least two lines")
    debit = credit = 0
    for line in lines:
        if line.side not in (DEBIT, CREDIT):
            raise UnbalancedVoucher(f"bad side {line.side!r}")
        if not 0 < line.amount_fen <= MAX_AMOUNT_FEN:
            raise UnbalancedVoucher(f"amount out of range: {line.amount_fen}")
        if line.side == DEBIT:
            debit += line.amount_fen
        else:
            credit += line.amount_fen
    if debit != credit:
        raise UnbalancedVoucher(f"debits {debit} != credits {credit}")
    return debit


# --- Interest (结息), domain-rules §4 --------------------------------------------------------
# Rates are held in parts per million (ppm) of a year: 1.5% = 15_000 ppm. Interest for a
# product-sum P (fen x days) at rate r ppm is P x r / (360 x 1_000_000), rounded once, half-up.
PPM = 1_000_000
DAY_BASIS = 360


def interest_year_bounds(year: int) -> tuple[date, date]:
    """Interest year `year` runs from 1 July of `year` (incl.) to 1 July of `year`+1 (excl.)."""
    return date(year, 7, 1), date(year + 1, 7, 1)


def interest_year_of(d: date) -> int:
    """The interest year a value date falls in."""
    return d.year if d.month >= 7 else d.year - 1


def product_sum(opening_fen: int, start: date, end: date, moves: list[tuple[date, int]]) -> int:
    """Σ balance × days over [start, end): each balance counts from its value date (incl.)."""
    total = opening_fen * (end - start).days
    for value_date, delta_fen in moves:
        if not start <= value_date < end:
            raise ValueError("value date outside the interest period")
        total += delta_fen * (end - value_date).days
    return total


def weighted_days(t: date, end: date, rates: list[tuple[date, int]]) -> int:
    """Σ rate_ppm × days over [t, end) for a rate table of (effective_from, rate_ppm) rows."""
    ordered = sorted(rates)
    total = 0
    for i, (since, rate) in enumerate(ordered):
        until = ordered[i + 1][0] if i + 1 < len(ordered) else end
        lo, hi = max(since, t), min(until, end)
        if hi > lo:
            total += rate * (hi - lo).days
    return total


def interest_fen(
    opening_fen: int, start: date, end: date, moves: list[tuple[date, int]],
    rates: list[tuple[date, int]],
) -> int:
    """Interest of a period by the product-sum method under a (possibly changing) rate table.

    interest = round_half_up(Σ balance × days × annual_rate / 360), each day at its own rate.
    """
    numerator = opening_fen * weighted_days(start, end, rates)
    for value_date, delta_fen in moves:
        if not start <= value_date < end:
            raise ValueError("value date outside the interest period")
        numerator += delta_fen * weighted_days(value_date, end, rates)
    if numerator < 0:
        raise ValueError("negative balance product")
    return round_half_up(numerator, DAY_BASIS * PPM)


def rates_in_force(table: list[tuple[date, int]], start: date, end: date) -> list[tuple[date, int]]:
    """The rate rows that apply in [start, end), the first one clipped to start."""
    ordered = sorted(table)
    applicable: list[tuple[date, int]] = []
    for i, (since, rate) in enumerate(ordered):
        until = ordered[i + 1][0] if i + 1 < len(ordered) else None
        if since >= end or (until is not None and until <= start):
            continue
        applicable.append((max(since, start), rate))
    if not applicable or applicable[0][0] > start:
        raise ValueError("no interest rate in force at the start of the period")
    return applicable
