"""Golden cases for product-sum interest (积数法), domain-rules §4.

interest_fen = round_half_up(Σ balance_fen × days × annual_rate / 360), rounded once.
At 1.5% (15 000 ppm), × 0.015 / 360 is the same as / 24 000, which is used in the hand sums.
Day counts: Jul 31, Aug 31, Sep 30, Oct 31, Nov 30, Dec 31, Jan 31, Feb 28/29, Mar 31, Apr 30,
May 31, Jun 30. 2023-07-01..2024-07-01 has 366 days (29 Feb 2024); 2024-07-01..2025-07-01 has 365.
"""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpf.kit.money import round_half_up
from hpf.ledger.domain import (
    DAY_BASIS,
    PPM,
    interest_fen,
    interest_year_bounds,
    product_sum,
    rates_in_force,
    weighted_days,
)

RATE = 15_000  # 1.5 % a year in ppm
RATE_TABLE = [(date(2016, 2, 21), RATE)]
Y2024 = interest_year_bounds(2024)  # 2024-07-01 .. 2025-07-01, 365 days
Y2023 = interest_year_bounds(2023)  # 2023-07-01 .. 2024-07-01, 366 days


def _rates(start: date, end: date, table: list[tuple[date, int]] = RATE_TABLE):
    return rates_in_force(table, start, end)


def test_interest_year_lengths() -> None:
    assert (Y2024[1] - Y2024[0]).days == 365
    assert (Y2023[1] - Y2023[0]).days == 366
    assert interest_year_bounds(2023) == (date(2023, 7, 1), date(2024, 7, 1))


def test_constant_balance_whole_year_365() -> None:
    # 10 000 000 fen (100 000 yuan) × 365 = 3 650 000 000 fen-days
    # 3 650 000 000 / 24 000 = 152 083.33 -> 152 083 fen (1 520.83 yuan)
    start, end = Y2024
    assert product_sum(10_000_000, start, end, []) == 3_650_000_000
    assert interest_fen(10_000_000, start, end, [], _rates(start, end)) == 152_083


def test_constant_balance_whole_leap_year_366() -> None:
    # 10 000 000 × 366 = 3 660 000 000; / 24 000 = 152 500 exactly
    start, end = Y2023
    assert product_sum(10_000_000, start, end, []) == 3_660_000_000
    assert interest_fen(10_000_000, start, end, [], _rates(start, end)) == 152_500


MONTHLY = [
    # value date, days to 2025-07-01
    (date(2024, 7, 15), 351),  # 365 - 14
    (date(2024, 8, 15), 320),  # 351 - 31 (July)
    (date(2024, 9, 15), 289),  # 320 - 31 (August)
    (date(2024, 10, 15), 259),  # 289 - 30 (September)
    (date(2024, 11, 15), 228),  # 259 - 31 (October)
    (date(2024, 12, 15), 198),  # 228 - 30 (November)
    (date(2025, 1, 15), 167),  # 198 - 31 (December)
    (date(2025, 2, 15), 136),  # 167 - 31 (January)
    (date(2025, 3, 15), 108),  # 136 - 28 (February 2025)
    (date(2025, 4, 15), 77),  # 108 - 31 (March)
    (date(2025, 5, 15), 47),  # 77 - 30 (April)
    (date(2025, 6, 15), 16),  # 47 - 31 (May); 15..30 June = 16 days
]  # Σ days = 2196


def test_monthly_deposits_from_zero() -> None:
    # 12 deposits of 140 800 fen (704 + 704 yuan, seed 003) on the 15th.
    # Σ days = 2 196; 140 800 × 2 196 = 309 196 800 fen-days
    # 309 196 800 / 24 000 = 12 883.2 -> 12 883 fen
    start, end = Y2024
    assert sum(days for _, days in MONTHLY) == 2_196
    assert all((end - d).days == days for d, days in MONTHLY)
    moves = [(d, 140_800) for d, _ in MONTHLY]
    assert product_sum(0, start, end, moves) == 309_196_800
    assert interest_fen(0, start, end, moves, _rates(start, end)) == 12_883


def test_monthly_deposits_with_opening_balance() -> None:
    # opening 5 000 000 × 365 = 1 825 000 000; + 309 196 800 = 2 134 196 800
    # 2 134 196 800 / 24 000 = 88 924.87 -> 88 925 fen
    start, end = Y2024
    moves = [(d, 140_800) for d, _ in MONTHLY]
    assert product_sum(5_000_000, start, end, moves) == 2_134_196_800
    assert interest_fen(5_000_000, start, end, moves, _rates(start, end)) == 88_925


def test_mid_year_withdrawal() -> None:
    # opening 2 000 000, withdraw 1 500 000 on 2025-01-01 (181 days to 2025-07-01:
    # 31+28+31+30+31+30).  2 000 000 × 365 - 1 500 000 × 181 = 730 000 000 - 271 500 000
    # = 458 500 000 (cross-check: 2 000 000 × 184 + 500 000 × 181 = 368 000 000 + 90 500 000).
    # 458 500 000 / 24 000 = 19 104.17 -> 19 104 fen
    start, end = Y2024
    moves = [(date(2025, 1, 1), -1_500_000)]
    assert product_sum(2_000_000, start, end, moves) == 458_500_000
    assert interest_fen(2_000_000, start, end, moves, _rates(start, end)) == 19_104


def test_deposit_on_the_last_day_counts_one_day() -> None:
    # 1 000 000 fen on 30 June: 1 day; 1 000 000 / 24 000 = 41.67 -> 42 fen
    start, end = Y2024
    moves = [(date(2025, 6, 30), 1_000_000)]
    assert product_sum(0, start, end, moves) == 1_000_000
    assert interest_fen(0, start, end, moves, _rates(start, end)) == 42


def test_last_day_deposit_half_fen_rounds_up() -> None:
    # 12 000 fen for 1 day: 12 000 / 24 000 = 0.5 -> 1 fen; 11 999 -> 0.49996 -> 0
    start, end = Y2023
    last = date(2024, 6, 30)
    assert interest_fen(0, start, end, [(last, 12_000)], _rates(start, end)) == 1
    assert interest_fen(0, start, end, [(last, 11_999)], _rates(start, end)) == 0


def test_leap_year_counts_29_february() -> None:
    # Deposit 2 400 000 on 2024-02-01: Feb 29 + Mar 31 + Apr 30 + May 31 + Jun 30 = 151 days.
    # 2 400 000 × 151 = 362 400 000; / 24 000 = 15 100 exactly.
    start, end = Y2023
    moves = [(date(2024, 2, 1), 2_400_000)]
    assert product_sum(0, start, end, moves) == 362_400_000
    assert interest_fen(0, start, end, moves, _rates(start, end)) == 15_100


RATE_CHANGE_TABLE = [
    (date(2015, 10, 24), 11_000),  # an older row, superseded before the year starts
    (date(2016, 2, 21), 15_000),
    (date(2025, 1, 1), 12_000),  # hypothetical cut to 1.2 %
    (date(2025, 9, 1), 13_000),  # after the year: must be ignored
]


def test_rates_in_force_clips_to_the_period() -> None:
    start, end = Y2024
    assert rates_in_force(RATE_CHANGE_TABLE, start, end) == [
        (date(2024, 7, 1), 15_000),
        (date(2025, 1, 1), 12_000),
    ]
    # Unsorted input gives the same answer.
    assert rates_in_force(list(reversed(RATE_CHANGE_TABLE)), start, end) == [
        (date(2024, 7, 1), 15_000),
        (date(2025, 1, 1), 12_000),
    ]
    # A change exactly on the first day replaces the older rate entirely.
    assert rates_in_force(RATE_CHANGE_TABLE, date(2025, 1, 1), date(2025, 7, 1)) == [
        (date(2025, 1, 1), 12_000),
    ]


def test_rates_in_force_without_a_rate_at_the_start_is_refused() -> None:
    with pytest.raises(ValueError):
        rates_in_force([(date(2024, 8, 1), RATE)], *Y2024)
    with pytest.raises(ValueError):
        rates_in_force([], *Y2024)


def test_rate_change_mid_year_constant_balance() -> None:
    # 1.5 % for 2024-07-01..2025-01-01 (184 days), 1.2 % for 2025-01-01..2025-07-01 (181 days)
    # weighted = 15 000 × 184 + 12 000 × 181 = 2 760 000 + 2 172 000 = 4 932 000 ppm-days
    # 10 000 000 × 4 932 000 / 360 000 000 = 137 000 exactly
    # (76 666.67 at 1.5 % + 60 333.33 at 1.2 %)
    start, end = Y2024
    rates = rates_in_force(RATE_CHANGE_TABLE, start, end)
    assert weighted_days(start, end, rates) == 4_932_000
    assert interest_fen(10_000_000, start, end, [], rates) == 137_000


def test_rate_change_mid_year_with_moves_rounds_once() -> None:
    # opening 10 000 000: 49 320 000 000 000 (as above, × 360 000 000 = 137 000)
    # + 300 000 on 2024-10-10: Oct 10..31 = 22, Nov 30, Dec 31 -> 83 days at 1.5 %, 181 at 1.2 %
    #   weighted 83 × 15 000 + 181 × 12 000 = 1 245 000 + 2 172 000 = 3 417 000
    #   300 000 × 3 417 000 = 1 025 100 000 000 (2 847.5 fen)
    # + 600 000 on 2025-04-01: 30 + 31 + 30 = 91 days at 1.2 % -> 12 000 × 91 = 1 092 000
    #   600 000 × 1 092 000 = 655 200 000 000 (1 820 fen)
    # Σ = 51 000 300 000 000; / 360 000 000 = 141 667.5 -> 141 668 (exactly half: up)
    start, end = Y2024
    rates = rates_in_force(RATE_CHANGE_TABLE, start, end)
    moves = [(date(2024, 10, 10), 300_000), (date(2025, 4, 1), 600_000)]
    assert weighted_days(date(2024, 10, 10), end, rates) == 3_417_000
    assert weighted_days(date(2025, 4, 1), end, rates) == 1_092_000
    assert interest_fen(10_000_000, start, end, moves, rates) == 141_668


def test_mid_year_closure_pays_interest_to_the_closing_date() -> None:
    # Account closed on 2024-11-20: the period is 2024-07-01 .. 2024-11-20 (exclusive).
    # opening 3 000 000 × 142 days (31 + 31 + 30 + 31 + 19) = 426 000 000
    # deposit 140 800 on 2024-08-15: 97 days (31 + 30 + 31 + 5) -> 13 657 600
    # Σ 439 657 600 / 24 000 = 18 319.07 -> 18 319 fen
    start, closing = date(2024, 7, 1), date(2024, 11, 20)
    assert (closing - start).days == 142
    moves = [(date(2024, 8, 15), 140_800)]
    assert product_sum(3_000_000, start, closing, moves) == 439_657_600
    assert interest_fen(3_000_000, start, closing, moves, _rates(start, closing)) == 18_319


def test_move_outside_the_period_is_refused() -> None:
    start, end = Y2024
    for value_date in (end, start - timedelta(days=1), date(2026, 1, 1)):
        with pytest.raises(ValueError):
            product_sum(0, start, end, [(value_date, 100)])
        with pytest.raises(ValueError):
            interest_fen(0, start, end, [(value_date, 100)], _rates(start, end))


def test_negative_balance_product_is_refused() -> None:
    start, end = Y2024
    with pytest.raises(ValueError):
        interest_fen(0, start, end, [(date(2024, 7, 2), -1)], _rates(start, end))


def test_zero_balance_earns_nothing() -> None:
    start, end = Y2024
    assert interest_fen(0, start, end, [], _rates(start, end)) == 0
    # Deposit then full withdrawal on the same day.
    moves = [(date(2024, 9, 1), 500_000), (date(2024, 9, 1), -500_000)]
    assert interest_fen(0, start, end, moves, _rates(start, end)) == 0


# --- Properties -----------------------------------------------------------------------------------
def _brute_force(
    opening: int, start: date, end: date, moves: list[tuple[date, int]],
    rates: list[tuple[date, int]],
) -> int:
    """Σ over each day of balance × that day's rate, rounded once."""
    ordered = sorted(rates)
    total = 0
    day = start
    while day < end:
        balance = opening + sum(delta for d, delta in moves if d <= day)
        rate = [r for since, r in ordered if since <= day][-1]
        total += balance * rate
        day += timedelta(days=1)
    return total


year_starts = st.integers(2016, 2040).map(lambda y: interest_year_bounds(y))


@st.composite
def periods_with_moves(draw):
    start, year_end = draw(year_starts)
    length = draw(st.integers(1, (year_end - start).days))
    end = start + timedelta(days=length)
    opening = draw(st.integers(0, 10**9))
    move_list = draw(
        st.lists(
            st.tuples(st.integers(0, length - 1), st.integers(0, 10**8)), max_size=15
        )
    )
    moves = [(start + timedelta(days=offset), amount) for offset, amount in move_list]
    # Withdrawals that never take the balance below zero.
    withdrawals = draw(st.lists(st.tuples(st.integers(0, length - 1), st.integers(0, 10**9)),
                                max_size=5))
    for offset, amount in withdrawals:
        d = start + timedelta(days=offset)
        # The balance only changes on move dates: its minimum from d on is taken at one of them.
        low = min(
            opening + sum(delta for v, delta in moves if v <= x)
            for x in [d] + [v for v, _ in moves if v > d]
        )
        moves.append((d, -min(amount, low)))
    return opening, start, end, moves


@st.composite
def rate_tables(draw, start: date, end: date):
    first = draw(st.integers(1_000, 50_000))
    changes = draw(
        st.lists(
            st.tuples(st.integers(1, max(1, (end - start).days - 1)), st.integers(1_000, 50_000)),
            max_size=3,
            unique_by=lambda t: t[0],
        )
    )
    table = [(start - timedelta(days=draw(st.integers(0, 3000))), first)]
    table += [(start + timedelta(days=offset), rate) for offset, rate in changes]
    return table


@given(periods_with_moves())
def test_product_sum_interest_equals_day_by_day_sum(case) -> None:
    opening, start, end, moves = case
    rates = rates_in_force(RATE_TABLE, start, end)
    brute = _brute_force(opening, start, end, moves, rates)
    assert product_sum(opening, start, end, moves) * RATE == brute
    expected = round_half_up(brute, DAY_BASIS * PPM)
    assert interest_fen(opening, start, end, moves, rates) == expected


@given(st.data())
def test_interest_with_rate_changes_equals_day_by_day_sum(data) -> None:
    opening, start, end, moves = data.draw(periods_with_moves())
    table = data.draw(rate_tables(start, end))
    rates = rates_in_force(table, start, end)
    assert rates[0][0] == start
    brute = _brute_force(opening, start, end, moves, rates)
    expected = round_half_up(brute, DAY_BASIS * PPM)
    assert interest_fen(opening, start, end, moves, rates) == expected
    # The unclipped table gives the same answer.
    assert interest_fen(opening, start, end, moves, table) == expected


@given(
    st.dates(date(2000, 1, 1), date(2040, 12, 31)),
    st.integers(0, 800),
    st.integers(0, 1_000),
    st.integers(1, 100_000),
)
def test_weighted_days_with_one_rate(t: date, days: int, before: int, rate: int) -> None:
    end = t + timedelta(days=days)
    assert weighted_days(t, end, [(t - timedelta(days=before), rate)]) == rate * days
    # A rate that starts inside the window only counts from its start.
    since = t + timedelta(days=min(before, days))
    assert weighted_days(t, end, [(since, rate)]) == rate * (end - since).days
