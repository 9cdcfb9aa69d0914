"""Working-day calendar (工作日) from the official holiday schedule.

chinese-calendar carries the State Council's holiday and make-up-day notices for the years it
knows. For a year it does not know yet (the notice for next year appears each November), we
fall back to Monday-Friday minus the fixed-date statutory holidays (元旦 1 Jan, 劳动节 1 May,
国庆 1-3 Oct) and say so through `is_official`. Lunar holidays cannot be known without the
notice, so deadlines computed in such a year may be a day or two early; staff see the flag.
"""

from datetime import date, timedelta

import chinese_calendar

_FIXED_HOLIDAYS = {(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)}


def is_official(d: date) -> bool:
    """True when the official schedule covers the year of d."""
    try:
        chinese_calendar.is_workday(d)
    except NotImplementedError:
        return False
    return True


def is_workday(d: date) -> bool:
    """True on a working day (make-up weekend days included, holidays excluded)."""
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:
        return d.weekday() < 5 and (d.month, d.day) not in _FIXED_HOLIDAYS


def next_workday(d: date) -> date:
    """d itself when it is a working day, else the next working day."""
    while not is_workday(d):
        d += timedelta(days=1)
    return d


def add_workdays(d: date, n: int) -> date:
    """The date n working days after d (d itself does not count)."""
    if n < 0:
        raise ValueError("n must not be negative")
    while n:
        d += timedelta(days=1)
        if is_workday(d):
            n -= 1
    return d
