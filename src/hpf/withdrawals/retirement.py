"""Statutory retirement age (法定退休年龄) after the 2025 reform, domain-rules §7. Pure.

Base ages: men 60, women in managerial/technical posts 55 (group 55), other women 50
(group 50). People born from a group's start month retire later by one month per N birth
months, up to a maximum:

    delay_months = min(max, floor(months_since_start / N) + 1)

The day convention: `retirement_date` is the day the person reaches the age, i.e. the
birthday's day of month in the retirement month (birth month + age months), clamped to that
month's last day. The ID number gives the birth day, so we can be exact rather than grant
the whole month early; clamping (born on the 31st, retiring in a 30-day month; born on 29
February) keeps the month equal to the one the State Council's table names, which date
arithmetic that overflows into the next month would not.
"""

import calendar
from dataclasses import dataclass
from datetime import date

from hpf.kit.errors import InvalidInput
from hpf.kit.ids import id_birth_date, id_is_male, normalize_id_number


@dataclass(frozen=True)
class _Schedule:
    base_months: int
    start: date  # first birth month the delay applies to
    per_birth_months: int  # N: one month of delay per N birth months
    max_delay_months: int


_SCHEDULES = {
    "M": _Schedule(60 * 12, date(1965, 1, 1), 4, 36),
    55: _Schedule(55 * 12, date(1970, 1, 1), 4, 36),
    50: _Schedule(50 * 12, date(1975, 1, 1), 2, 60),
}


def _schedule(gender: str, female_group: int | None) -> _Schedule:
    if gender == "M":
        return _SCHEDULES["M"]
    if gender != "F":
        raise InvalidInput("性别无效", code="INVALID_GENDER", gender=gender)
    group = 55 if female_group is None else female_group  # §7: women default to group 55
    if group not in (50, 55):
        raise InvalidInput("女职工退休年龄组只能是50或55", code="INVALID_RETIRE_GROUP",
                           female_group=female_group)
    return _SCHEDULES[group]


def female_group_of(retire_group: str | None) -> int | None:
    """The group number (55 / 50) of a member record's retire_group ('M60', 'F55', 'F50')."""
    return {"F55": 55, "F50": 50}.get(retire_group or "")


def delay_months(birth: date, gender: str, female_group: int | None = None) -> int:
    """Months the reform adds to the base age for someone born in `birth`'s month."""
    s = _schedule(gender, female_group)
    since = (birth.year - s.start.year) * 12 + (birth.month - s.start.month)
    if since < 0:
        return 0
    return min(s.max_delay_months, since // s.per_birth_months + 1)


def retirement_age_months(birth: date, gender: str, female_group: int | None = None) -> int:
    """Statutory retirement age in months (e.g. 721 = 60 years 1 month)."""
    return _schedule(gender, female_group).base_months + delay_months(birth, gender, female_group)


def retirement_date(birth: date, gender: str, female_group: int | None = None) -> date:
    """The day the statutory age is reached: birth day of month in the retirement month,
    clamped to the month's end (see the module docstring)."""
    index = birth.year * 12 + birth.month - 1 + retirement_age_months(birth, gender, female_group)
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(birth.day, calendar.monthrange(year, month)[1]))


def has_reached(birth: date, gender: str, female_group: int | None, on: date) -> bool:
    """True when the statutory retirement age is reached on or before `on`."""
    return on >= retirement_date(birth, gender, female_group)


def from_id_number(id_number: str) -> tuple[date, str]:
    """(birth date, 'M' | 'F') from a resident ID number; 15-digit numbers are upgraded.

    Raises InvalidInput INVALID_ID_NUMBER for a malformed number."""
    id18 = normalize_id_number(id_number)
    return id_birth_date(id18), "M" if id_is_male(id18) else "F"
