"""Statutory retirement age (domain-rules §7): worked examples across each group's reform
boundary, computed by hand: age = base + min(max, floor(months since start / N) + 1)."""

from datetime import date

import pytest

from hpf.kit.errors import InvalidInput
from hpf.withdrawals.retirement import (
    delay_months,
    female_group_of,
    from_id_number,
    has_reached,
    retirement_age_months,
    retirement_date,
)

CASES = [
    # Men: base 60 (720 months), start 1965-01, +1 per 4 birth months, max +36.
    ("M", None, date(1964, 12, 15), 0, 720, date(2024, 12, 15)),  # month before the start
    ("M", None, date(1965, 1, 10), 1, 721, date(2025, 2, 10)),  # start month: 60y1m
    ("M", None, date(1965, 4, 30), 1, 721, date(2025, 5, 30)),  # start+N-1: 3//4+1 = 1
    ("M", None, date(1965, 5, 31), 2, 722, date(2025, 7, 31)),  # start+N: 4//4+1 = 2
    ("M", None, date(1976, 8, 20), 35, 755, date(2039, 7, 20)),  # 139//4+1 = 35: 62y11m
    ("M", None, date(1976, 9, 1), 36, 756, date(2039, 9, 1)),  # 140//4+1 = 36: the maximum, 63
    ("M", None, date(1976, 10, 5), 36, 756, date(2039, 10, 5)),  # after: capped at 36
    ("M", None, date(1990, 3, 31), 36, 756, date(2053, 3, 31)),
    # Women, group 55: base 660, start 1970-01, +1 per 4, max +36.
    ("F", 55, date(1969, 12, 31), 0, 660, date(2024, 12, 31)),
    ("F", 55, date(1970, 1, 31), 1, 661, date(2025, 2, 28)),  # 31st clamped to February's end
    ("F", 55, date(1970, 4, 15), 1, 661, date(2025, 5, 15)),
    ("F", 55, date(1970, 5, 15), 2, 662, date(2025, 7, 15)),
    ("F", 55, date(1981, 8, 10), 35, 695, date(2039, 7, 10)),  # m = 139
    ("F", 55, date(1981, 9, 10), 36, 696, date(2039, 9, 10)),  # m = 140: age 58
    ("F", 55, date(1981, 10, 10), 36, 696, date(2039, 10, 10)),
    # Women, group 50: base 600, start 1975-01, +1 per 2, max +60.
    ("F", 50, date(1974, 12, 1), 0, 600, date(2024, 12, 1)),
    ("F", 50, date(1975, 1, 1), 1, 601, date(2025, 2, 1)),
    ("F", 50, date(1975, 2, 28), 1, 601, date(2025, 3, 28)),  # start+N-1: 1//2+1 = 1
    ("F", 50, date(1975, 3, 31), 2, 602, date(2025, 5, 31)),  # start+N: 2//2+1 = 2
    ("F", 50, date(1984, 10, 15), 59, 659, date(2039, 9, 15)),  # m = 117: 54y11m
    ("F", 50, date(1984, 11, 15), 60, 660, date(2039, 11, 15)),  # m = 118: the maximum, 55
    ("F", 50, date(1984, 12, 15), 60, 660, date(2039, 12, 15)),
]


@pytest.mark.parametrize(("gender", "group", "birth", "delay", "age", "on"), CASES)
def test_worked_examples(gender, group, birth, delay, age, on):
    assert delay_months(birth, gender, group) == delay
    assert retirement_age_months(birth, gender, group) == age
    assert retirement_date(birth, gender, group) == on


def test_women_default_to_the_55_group():
    assert retirement_age_months(date(1970, 1, 5), "F") == 661
    assert retirement_age_months(date(1970, 1, 5), "F", None) == 661


def test_born_on_29_february_reaches_the_age_on_28_february():
    # Men born 1980-02: m = 181 → capped at 36, age 63 → 2043-02, not a leap year.
    assert retirement_date(date(1980, 2, 29), "M") == date(2043, 2, 28)


def test_has_reached_from_the_day_itself():
    born = date(1965, 1, 10)  # retires 2025-02-10
    assert not has_reached(born, "M", None, date(2025, 2, 9))
    assert has_reached(born, "M", None, date(2025, 2, 10))
    assert has_reached(born, "M", None, date(2030, 1, 1))


def test_group_of_the_member_record():
    assert female_group_of("F50") == 50
    assert female_group_of("F55") == 55
    assert female_group_of("M60") is None
    assert female_group_of(None) is None


def test_invalid_gender_and_group_are_refused():
    with pytest.raises(InvalidInput) as e:
        retirement_age_months(date(1970, 1, 1), "X")
    assert e.value.code == "INVALID_GENDER" and e.value.message == "性别无效"
    with pytest.raises(InvalidInput) as e:
        retirement_age_months(date(1970, 1, 1), "F", 60)
    assert e.value.code == "INVALID_RETIRE_GROUP"
    assert e.value.message == "女职工退休年龄组只能是50或55"


def test_from_id_number():
    # GB 11643's example: a woman born 1949-12-31 (digit 17 = 2, even).
    assert from_id_number("11010519491231002X") == (date(1949, 12, 31), "F")
    assert from_id_number("11010519491231002x") == (date(1949, 12, 31), "F")
    # A man born 1965-01-10, sequence 003 (odd); check digit by hand: Σ digit × weight = 128,
    # 128 mod 11 = 7 → '5'.
    assert from_id_number("110105196501100035") == (date(1965, 1, 10), "M")
    # The 15-digit form of the first upgrades to it (19 inserted, check digit X appended).
    assert from_id_number("110105491231002") == (date(1949, 12, 31), "F")


def test_from_id_number_refuses_a_bad_number():
    with pytest.raises(InvalidInput) as e:
        from_id_number("110105194912310021")  # wrong check digit
    assert e.value.code == "INVALID_ID_NUMBER"
    with pytest.raises(InvalidInput) as e:
        from_id_number("1101051949")
    assert e.value.code == "INVALID_ID_NUMBER"
