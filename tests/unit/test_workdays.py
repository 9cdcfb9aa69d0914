"""Working-day calendar: the official schedule (chinese-calendar) and the documented fallback."""

from datetime import date, timedelta

import chinese_calendar
import pytest

from hpf.kit.workdays import add_workdays, is_official, is_workday, next_workday

# Official 2025/2026 notices of the State Council General Office (as carried by chinese-calendar):
# 2025: Spring Festival 28 Jan - 4 Feb, make-up Sun 26 Jan and Sat 8 Feb; Labour Day 1-5 May,
#       make-up Sun 27 Apr; National Day + Mid-Autumn 1-8 Oct, make-up Sun 28 Sep and Sat 11 Oct.
# 2026: New Year 1-3 Jan, make-up Sun 4 Jan; Spring Festival 15-23 Feb, make-up Sat 14 Feb and
#       Sat 28 Feb; Labour Day 1-5 May, make-up Sat 9 May; National Day 1-7 Oct, make-up Sun
#       20 Sep and Sat 10 Oct.
HOLIDAYS = [
    date(2025, 1, 1),
    date(2025, 1, 28),
    date(2025, 2, 4),
    date(2025, 5, 5),
    date(2025, 10, 1),
    date(2025, 10, 6),  # Mid-Autumn, a Monday
    date(2025, 10, 8),  # a Wednesday
    date(2026, 1, 1),
    date(2026, 1, 2),  # a Friday
    date(2026, 2, 16),  # a Monday
    date(2026, 2, 23),  # a Monday
    date(2026, 5, 1),
    date(2026, 5, 5),  # a Tuesday
    date(2026, 10, 1),
    date(2026, 10, 7),  # a Wednesday
]
MAKE_UP_WORKDAYS = [
    date(2025, 1, 26),  # Sunday
    date(2025, 2, 8),  # Saturday
    date(2025, 4, 27),  # Sunday
    date(2025, 9, 28),  # Sunday
    date(2025, 10, 11),  # Saturday
    date(2026, 1, 4),  # Sunday
    date(2026, 2, 14),  # Saturday
    date(2026, 2, 28),  # Saturday
    date(2026, 5, 9),  # Saturday
    date(2026, 9, 20),  # Sunday
    date(2026, 10, 10),  # Saturday
]


@pytest.mark.parametrize("day", HOLIDAYS)
def test_official_holidays_are_not_workdays(day: date) -> None:
    assert chinese_calendar.is_holiday(day)  # the library agrees with the notice
    assert is_official(day)
    assert not is_workday(day)


@pytest.mark.parametrize("day", MAKE_UP_WORKDAYS)
def test_make_up_weekend_days_are_workdays(day: date) -> None:
    assert day.weekday() >= 5  # really a weekend day
    assert chinese_calendar.is_workday(day)
    assert is_workday(day)


@pytest.mark.parametrize(
    "day", [date(2025, 9, 27), date(2025, 10, 12), date(2026, 3, 1), date(2026, 6, 6)]
)
def test_ordinary_weekends_are_off(day: date) -> None:
    assert day.weekday() >= 5
    assert not is_workday(day)


@pytest.mark.parametrize("day", [date(2025, 9, 30), date(2025, 10, 9), date(2026, 3, 2)])
def test_ordinary_weekdays_are_workdays(day: date) -> None:
    assert is_workday(day)


def test_next_workday() -> None:
    assert next_workday(date(2025, 9, 30)) == date(2025, 9, 30)  # already a workday
    assert next_workday(date(2025, 10, 1)) == date(2025, 10, 9)
    assert next_workday(date(2025, 9, 27)) == date(2025, 9, 28)  # Sat -> make-up Sunday
    assert next_workday(date(2026, 2, 15)) == date(2026, 2, 24)
    assert next_workday(date(2025, 12, 31)) == date(2025, 12, 31)


def test_add_workdays_across_national_day() -> None:
    # 30 Sep 2025 (Tue) + 1: 1-8 Oct are off -> 9 Oct.
    assert add_workdays(date(2025, 9, 30), 1) == date(2025, 10, 9)
    # + 3: 9 Oct, 10 Oct, 11 Oct (make-up Saturday).
    assert add_workdays(date(2025, 9, 30), 3) == date(2025, 10, 11)
    # + 4: 12 Oct is an ordinary Sunday -> 13 Oct.
    assert add_workdays(date(2025, 9, 30), 4) == date(2025, 10, 13)
    # 26 Sep (Fri) + 1: 27 Sep is Saturday, 28 Sep the make-up Sunday.
    assert add_workdays(date(2025, 9, 26), 1) == date(2025, 9, 28)


def test_loan_decision_deadline_of_10_workdays_across_national_day() -> None:
    # 25 Sep 2025 (Thu): 26 Sep (1), 28 Sep (2), 29 (3), 30 (4), 9 Oct (5), 10 (6), 11 (7),
    # 13 (8), 14 (9), 15 Oct (10).
    assert add_workdays(date(2025, 9, 25), 10) == date(2025, 10, 15)


def test_withdrawal_decision_deadline_of_3_workdays_across_spring_festival() -> None:
    # 12 Feb 2026 (Thu): 13 Feb (1), 14 Feb make-up Saturday (2), 15-23 Feb off, 24 Feb (3).
    assert add_workdays(date(2026, 2, 12), 3) == date(2026, 2, 24)


def test_add_workdays_zero_and_negative() -> None:
    assert add_workdays(date(2025, 10, 1), 0) == date(2025, 10, 1)
    with pytest.raises(ValueError):
        add_workdays(date(2025, 10, 1), -1)


@pytest.mark.parametrize("n", [1, 2, 5, 10, 30])
def test_add_workdays_lands_on_a_workday_with_n_workdays_in_between(n: int) -> None:
    start = date(2025, 9, 20)
    result = add_workdays(start, n)
    assert is_workday(result)
    days = [start + timedelta(days=i) for i in range(1, (result - start).days + 1)]
    assert sum(is_workday(d) for d in days) == n


# --- Fallback for a year the library does not know ----------------------------------------------
def test_library_lacks_2040() -> None:
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2040, 10, 1))


def test_fallback_is_not_official() -> None:
    assert not is_official(date(2040, 10, 1))
    assert not is_official(date(2040, 3, 14))
    assert is_official(date(2026, 3, 13))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2040, 1, 1), False),  # Sunday and New Year
        (date(2040, 1, 2), True),  # Monday (no substitute day in the fallback)
        (date(2040, 5, 1), False),  # Tuesday, Labour Day
        (date(2040, 5, 2), True),  # Wednesday: only 1 May is fixed
        (date(2040, 10, 1), False),  # Monday, National Day
        (date(2040, 10, 2), False),
        (date(2040, 10, 3), False),
        (date(2040, 10, 4), True),  # Thursday
        (date(2040, 10, 6), False),  # Saturday
        (date(2040, 10, 7), False),  # Sunday
        (date(2040, 2, 12), False),  # Sunday (lunar new year is not known to the fallback)
        (date(2040, 2, 13), True),  # Monday
    ],
)
def test_fallback_calendar(day: date, expected: bool) -> None:
    assert is_workday(day) is expected


def test_fallback_add_workdays() -> None:
    # 28 Sep 2040 (Fri) + 1: 29-30 Sep weekend, 1-3 Oct fixed holidays -> 4 Oct.
    assert add_workdays(date(2040, 9, 28), 1) == date(2040, 10, 4)
    assert next_workday(date(2040, 9, 29)) == date(2040, 10, 4)


def test_add_workdays_from_official_into_fallback_year() -> None:
    # The library knows 2026 but not 2027: 31 Dec 2026 (Thu) + 1 -> 1 Jan 2027 is a fixed
    # holiday, 2-3 Jan a weekend -> 4 Jan 2027 (Mon).
    assert is_official(date(2026, 12, 31))
    assert not is_official(date(2027, 1, 4))
    assert add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 4)
