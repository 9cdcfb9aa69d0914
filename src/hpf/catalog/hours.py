"""Service hours (服务时间): which days and which times of day a service is offered on a channel.

Pure rules. Times are the centre's local time (Asia/Shanghai); the caller converts. A window
whose closing time is before its opening time runs over midnight (22:00–06:00).
"""

from dataclasses import dataclass
from datetime import datetime, time

DAYS = {"all": "每天", "workdays": "工作日"}
# Every channel starts open around the clock: a centre sets its counters' and its hotline
# agents' office hours (e.g. workdays 09:00-17:00) as channel hours in the console. Starting
# with office hours would lock staff out of a fresh installation after five o'clock.
ROUND_THE_CLOCK = ("all", None, None)
CHANNEL_DEFAULT_HOURS: dict[str, tuple[str, time | None, time | None]] = {}


@dataclass(frozen=True)
class Hours:
    """Days (all | workdays) and an optional daily window [opens, closes)."""

    days: str = "all"
    opens: time | None = None
    closes: time | None = None

    def __post_init__(self) -> None:
        if self.days not in DAYS:
            raise ValueError(f"unknown days {self.days!r}")
        if (self.opens is None) != (self.closes is None):
            raise ValueError("opening and closing times go together")
        if self.opens is not None and self.opens == self.closes:
            raise ValueError("an empty daily window")

    def describe(self) -> str:
        """Chinese description, e.g. 工作日 09:00-17:00."""
        window = "全天" if self.opens is None else f"{self.opens:%H:%M}-{self.closes:%H:%M}"
        return f"{DAYS[self.days]} {window}"


def default_hours(channel: str) -> Hours:
    """The hours a channel starts with."""
    days, opens, closes = CHANNEL_DEFAULT_HOURS.get(channel, ROUND_THE_CLOCK)
    return Hours(days, opens, closes)


def within(hours: Hours, local: datetime, is_workday: bool, previous_is_workday: bool) -> bool:
    """True when the local moment falls inside the hours, given whether today and the day
    before are working days.

    An overnight window belongs to the day it opens on: Friday 22:00–06:00 on working days
    covers the early hours of Saturday, and not those of Monday.
    """
    if hours.opens is None:
        return hours.days == "all" or is_workday
    t = local.time()
    if hours.opens < hours.closes:
        return (hours.days == "all" or is_workday) and hours.opens <= t < hours.closes
    if t >= hours.opens:
        return hours.days == "all" or is_workday
    if t < hours.closes:
        return hours.days == "all" or previous_is_workday
    return False
