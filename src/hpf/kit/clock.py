"""The platform's notion of "today" and "now", and month arithmetic.

Everything asks this module for the date so that a demo, a test or a job replaying a past day
can fix the clock (HPF_TODAY, or `frozen()` in tests) without touching the system time.
"""

import contextlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hpf.config import get_settings

# The centre's wall clock: service hours and "today's" limits are in local time.
LOCAL_TZ = ZoneInfo("Asia/Shanghai")

_frozen: list[date | datetime] = []


def today() -> date:
    """The business date: a frozen date, HPF_TODAY, or the real local date."""
    if _frozen:
        fixed = _frozen[-1]
        return fixed.astimezone(LOCAL_TZ).date() if isinstance(fixed, datetime) else fixed
    configured = get_settings().today
    if configured:
        return date.fromisoformat(configured)
    return date.today()


def now() -> datetime:
    """Current UTC time, moved onto the business date when the clock is fixed (an aware
    datetime frozen with `frozen` is returned as it is)."""
    if _frozen and isinstance(_frozen[-1], datetime):
        return _frozen[-1].astimezone(UTC)
    real = datetime.now(UTC)
    if not _frozen and not get_settings().today:
        return real
    return datetime.combine(today(), real.timetz())


def as_utc(value: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite hands stored UTC times back naive)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def local_now() -> datetime:
    """now() on the centre's wall clock (Asia/Shanghai)."""
    return now().astimezone(LOCAL_TZ)


def local_day_start(day: date) -> datetime:
    """The UTC moment a local calendar day begins (for "today's total" limits)."""
    return datetime.combine(day, datetime.min.time(), LOCAL_TZ).astimezone(UTC)


@contextlib.contextmanager
def frozen(day: date | datetime) -> Iterator[None]:
    """Fix the business date within a block (tests, replayed jobs, the demo seed); an aware
    datetime fixes the moment itself (service-hours tests)."""
    if isinstance(day, datetime) and day.tzinfo is None:
        raise ValueError("freeze an aware datetime")
    _frozen.append(day)
    try:
        yield
    finally:
        _frozen.pop()


def month_key(d: date) -> int:
    """YYYYMM integer of a date."""
    return d.year * 100 + d.month


def month_start(yyyymm: int) -> date:
    """First day of month YYYYMM."""
    return date(yyyymm // 100, yyyymm % 100, 1)


def add_months(yyyymm: int, n: int) -> int:
    """Month YYYYMM moved by n months."""
    index = (yyyymm // 100) * 12 + (yyyymm % 100 - 1) + n
    return (index // 12) * 100 + index % 12 + 1


def months_between(a: int, b: int) -> int:
    """Number of months from YYYYMM a to YYYYMM b (b - a)."""
    return (b // 100 - a // 100) * 12 + (b % 100 - a % 100)


def valid_month(yyyymm: int) -> bool:
    """True for a plausible YYYYMM value."""
    return 190001 <= yyyymm <= 999912 and 1 <= yyyymm % 100 <= 12


def month_end(yyyymm: int) -> date:
    """Last day of month YYYYMM."""
    return month_start(add_months(yyyymm, 1)) - timedelta(days=1)
