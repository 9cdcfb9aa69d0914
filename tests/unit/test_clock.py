"""The business clock and month arithmetic."""

from datetime import UTC, date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpf.kit import clock
from hpf.kit.clock import (
    add_months,
    frozen,
    month_end,
    month_key,
    month_start,
    months_between,
    now,
    today,
    valid_month,
)


@pytest.mark.parametrize(
    ("yyyymm", "n", "expected"),
    [
        (202411, 3, 202502),
        (202412, 1, 202501),
        (202501, -1, 202412),
        (202401, -13, 202212),
        (202406, 0, 202406),
        (202406, 12, 202506),
        (202406, -12, 202306),
        (202406, 360, 205406),  # a 30-year loan term
        (202412, 13, 202601),
        (202501, -25, 202212),
        (200001, -1, 199912),
    ],
)
def test_add_months(yyyymm: int, n: int, expected: int) -> None:
    assert add_months(yyyymm, n) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (202411, 202502, 3),
        (202502, 202411, -3),
        (202401, 202401, 0),
        (202412, 202501, 1),
        (202501, 202412, -1),
        (202406, 205406, 360),
        (199912, 200001, 1),
    ],
)
def test_months_between(a: int, b: int, expected: int) -> None:
    assert months_between(a, b) == expected


months = st.integers(1900, 9000).flatmap(
    lambda y: st.integers(1, 12).map(lambda m: y * 100 + m)
)


@given(months, st.integers(-1200, 1200))
def test_add_months_and_months_between_are_inverse(yyyymm: int, n: int) -> None:
    moved = add_months(yyyymm, n)
    assert 1 <= moved % 100 <= 12
    assert months_between(yyyymm, moved) == n
    assert add_months(moved, -n) == yyyymm


@pytest.mark.parametrize(
    ("yyyymm", "expected"),
    [
        (202402, date(2024, 2, 29)),  # leap year
        (202302, date(2023, 2, 28)),
        (200002, date(2000, 2, 29)),  # divisible by 400
        (190002, date(1900, 2, 28)),  # divisible by 100, not by 400
        (202412, date(2024, 12, 31)),  # year boundary inside month_end
        (202404, date(2024, 4, 30)),
        (202501, date(2025, 1, 31)),
    ],
)
def test_month_end(yyyymm: int, expected: date) -> None:
    assert month_end(yyyymm) == expected


def test_month_start_and_key() -> None:
    assert month_start(202402) == date(2024, 2, 1)
    assert month_key(date(2024, 2, 29)) == 202402
    assert month_key(date(2025, 12, 31)) == 202512


@given(st.dates(date(1900, 1, 1), date(9000, 12, 31)))
def test_month_key_start_end_agree(d: date) -> None:
    key = month_key(d)
    assert month_start(key) <= d <= month_end(key)
    assert month_end(key) + timedelta(days=1) == month_start(add_months(key, 1))


@pytest.mark.parametrize(
    ("yyyymm", "expected"),
    [
        (202401, True),
        (202412, True),
        (190001, True),
        (999912, True),
        (202400, False),
        (202413, False),
        (189912, False),
        (2024, False),
        (2024010, False),
    ],
)
def test_valid_month(yyyymm: int, expected: bool) -> None:
    assert valid_month(yyyymm) is expected


# --- frozen() -------------------------------------------------------------------------------------
def test_frozen_nesting_restores_each_level() -> None:
    outside = today()
    a, b = date(2024, 6, 30), date(2025, 7, 1)
    with frozen(a):
        assert today() == a
        with frozen(b):
            assert today() == b
            assert now().date() == b
        assert today() == a
        assert now().date() == a
    assert today() == outside


def test_frozen_restores_after_an_exception() -> None:
    outside = today()
    with pytest.raises(RuntimeError), frozen(date(2001, 1, 1)):
        assert today() == date(2001, 1, 1)
        raise RuntimeError("boom")
    assert today() == outside


def test_frozen_now_keeps_utc_time_of_day() -> None:
    with frozen(date(2001, 2, 3)):
        moment = now()
    assert moment.date() == date(2001, 2, 3)
    assert moment.utcoffset() == timedelta(0)


def test_frozen_wins_over_configured_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "get_settings", lambda: SimpleNamespace(today="2030-01-15"))
    assert today() == date(2030, 1, 15)
    with frozen(date(2024, 2, 29)):
        assert today() == date(2024, 2, 29)
    assert today() == date(2030, 1, 15)


# --- now() without a fixed clock on a server in China Standard Time ------------------------------
_CST = timezone(timedelta(hours=8))
# 2025-03-02 03:00 in Beijing is 2025-03-01 19:00 UTC.
_REAL_INSTANT = datetime(2025, 3, 1, 19, 0, tzinfo=UTC)


class _FakeDate(date):
    @classmethod
    def today(cls) -> date:  # local date of the server, as date.today() returns it
        return _REAL_INSTANT.astimezone(_CST).date()


class _FakeDatetime(datetime):
    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return _REAL_INSTANT.astimezone(tz) if tz else _REAL_INSTANT.astimezone(_CST)


def test_now_is_the_real_instant_when_the_clock_is_not_fixed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(clock, "get_settings", lambda: SimpleNamespace(today=None))
    monkeypatch.setattr(clock, "date", _FakeDate)
    monkeypatch.setattr(clock, "datetime", _FakeDatetime)
    assert today() == date(2025, 3, 2)  # the local business date
    assert now() == _REAL_INSTANT  # actual: 2025-03-02 19:00 UTC, a day ahead
