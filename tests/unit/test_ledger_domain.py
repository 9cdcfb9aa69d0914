"""Pure ledger rules: voucher balance, sides, chart of accounts and interest years."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpf.kit.money import MAX_AMOUNT_FEN
from hpf.ledger.domain import (
    BANK_SETTLEMENT,
    CHART,
    CREDIT,
    DEBIT,
    ENTRY_TYPES,
    INTEREST_EXPENSE,
    MEMBER_DEPOSITS,
    Line,
    UnbalancedVoucher,
    check_lines,
    interest_year_bounds,
    interest_year_of,
    normal_sign,
)


def test_balanced_two_lines_returns_total() -> None:
    lines = [Line(1, DEBIT, 140_800), Line(2, CREDIT, 140_800)]
    assert check_lines(lines) == 140_800


def test_balanced_many_lines_returns_total() -> None:
    # One bank debit against three member credits (a remittance).
    lines = [
        Line(1, DEBIT, 211_200),
        Line(2, CREDIT, 140_800),
        Line(3, CREDIT, 35_200),
        Line(4, CREDIT, 35_200),
    ]
    assert check_lines(lines) == 211_200


def test_balanced_with_several_debits_and_credits() -> None:
    lines = [Line(1, DEBIT, 100), Line(2, DEBIT, 50), Line(3, CREDIT, 120), Line(4, CREDIT, 30)]
    assert check_lines(lines) == 150


def test_max_amount_is_allowed() -> None:
    lines = [Line(1, DEBIT, MAX_AMOUNT_FEN), Line(2, CREDIT, MAX_AMOUNT_FEN)]
    assert check_lines(lines) == MAX_AMOUNT_FEN


@pytest.mark.parametrize(
    "lines",
    [
        pytest.param([Line(1, DEBIT, 100), Line(2, CREDIT, 99)], id="unbalanced"),
        pytest.param([Line(1, DEBIT, 100), Line(2, DEBIT, 100)], id="debits-only"),
        pytest.param([Line(1, CREDIT, 100), Line(2, CREDIT, 100)], id="credits-only"),
        pytest.param([Line(1, DEBIT, 0), Line(2, CREDIT, 0)], id="zero"),
        pytest.param(
            [Line(1, DEBIT, 100), Line(2, CREDIT, 100), Line(3, CREDIT, 0), Line(4, DEBIT, 0)],
            id="balanced-but-zero-line",
        ),
        pytest.param([Line(1, DEBIT, -100), Line(2, CREDIT, -100)], id="negative"),
        pytest.param(
            [Line(1, DEBIT, 100), Line(2, CREDIT, 200), Line(3, CREDIT, -100)],
            id="negative-line-that-would-balance",
        ),
        pytest.param(
            [Line(1, DEBIT, MAX_AMOUNT_FEN + 1), Line(2, CREDIT, MAX_AMOUNT_FEN + 1)],
            id="over-max",
        ),
        pytest.param([Line(1, DEBIT, 100)], id="one-line"),
        pytest.param([], id="no-line"),
        pytest.param([Line(1, "X", 100), Line(2, CREDIT, 100)], id="bad-side"),
        pytest.param([Line(1, "d", 100), Line(2, CREDIT, 100)], id="lowercase-side"),
    ],
)
def test_refused_vouchers(lines: list[Line]) -> None:
    with pytest.raises(UnbalancedVoucher):
        check_lines(lines)


def test_unbalanced_voucher_is_a_value_error() -> None:
    assert issubclass(UnbalancedVoucher, ValueError)


@given(st.lists(st.integers(1, 10**9), min_size=1, max_size=20), st.integers(1, 10**9))
def test_remittance_shaped_vouchers_balance(credits: list[int], extra: int) -> None:
    total = sum(credits)
    lines = [Line(0, DEBIT, total)] + [Line(i + 1, CREDIT, c) for i, c in enumerate(credits)]
    assert check_lines(lines) == total
    # Off by any positive amount on either side is refused.
    with pytest.raises(UnbalancedVoucher):
        check_lines([Line(0, DEBIT, total + extra)] + lines[1:])
    with pytest.raises(UnbalancedVoucher):
        check_lines(lines + [Line(99, CREDIT, extra)])


def test_normal_sign() -> None:
    assert normal_sign(DEBIT, DEBIT) == 1  # a debit increases an asset
    assert normal_sign(DEBIT, CREDIT) == -1
    assert normal_sign(CREDIT, CREDIT) == 1  # a credit increases member deposits
    assert normal_sign(CREDIT, DEBIT) == -1


def test_chart_of_accounts() -> None:
    codes = [row[0] for row in CHART]
    assert len(codes) == len(set(codes))
    sides = {row[0]: row[3] for row in CHART}
    kinds = {row[0]: row[4] for row in CHART}
    assert sides[MEMBER_DEPOSITS] == CREDIT and kinds[MEMBER_DEPOSITS] == "liability"
    assert sides[BANK_SETTLEMENT] == DEBIT and kinds[BANK_SETTLEMENT] == "asset"
    assert sides[INTEREST_EXPENSE] == DEBIT and kinds[INTEREST_EXPENSE] == "expense"
    # Normal side follows the kind: assets and expenses debit, the rest credit.
    for code, _zh, _en, side, kind in CHART:
        assert side == (DEBIT if kind in ("asset", "expense") else CREDIT), code


def test_entry_types_used_by_interest() -> None:
    assert ENTRY_TYPES["interest"] == "公积金结息"
    assert ENTRY_TYPES["carry_over"] == "上年结转"


@pytest.mark.parametrize(
    ("d", "year"),
    [
        (date(2025, 6, 30), 2024),  # settlement day belongs to the year that ends
        (date(2025, 7, 1), 2025),
        (date(2025, 1, 1), 2024),
        (date(2024, 12, 31), 2024),
        (date(2024, 2, 29), 2023),
        (date(2024, 7, 1), 2024),
    ],
)
def test_interest_year_of(d: date, year: int) -> None:
    assert interest_year_of(d) == year


def test_interest_year_bounds() -> None:
    assert interest_year_bounds(2024) == (date(2024, 7, 1), date(2025, 7, 1))
    start, end = interest_year_bounds(2023)
    assert (end - start).days == 366
    start, end = interest_year_bounds(2024)
    assert (end - start).days == 365


@given(st.dates(date(1990, 1, 1), date(2100, 12, 31)))
def test_every_date_lies_in_the_bounds_of_its_interest_year(d: date) -> None:
    start, end = interest_year_bounds(interest_year_of(d))
    assert start <= d < end
    # Consecutive years tile the calendar without gaps.
    assert interest_year_bounds(interest_year_of(d) + 1)[0] == end
    assert interest_year_of(end - timedelta(days=1)) == interest_year_of(d)
