"""Golden cases for money in fen and the half-up rounding rule (domain-rules §2)."""

from decimal import Decimal
from fractions import Fraction

import pytest

from hpf.kit.money import (
    FEN_PER_YUAN,
    ROUNDING_UNITS_FEN,
    fen_to_yuan,
    format_yuan,
    percent_of,
    round_half_up,
    yuan_to_fen,
)


def test_constants() -> None:
    assert FEN_PER_YUAN == 100
    assert ROUNDING_UNITS_FEN == {"fen": 1, "jiao": 10, "yuan": 100}


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (5, 2, 3),  # 2.5 -> 3
        (-5, 2, -3),  # -2.5 -> -3 (away from zero, not banker's rounding)
        (7, 2, 4),  # 3.5 -> 4 (banker's would give 4 too)
        (9, 2, 5),  # 4.5 -> 5 (banker's would give 4)
        (-9, 2, -5),
        (24999, 10000, 2),  # 2.4999 -> 2
        (-24999, 10000, -2),
        (25001, 10000, 3),
        (3, 2, 2),  # 1.5 -> 2
        (1, 2, 1),  # 0.5 -> 1
        (-1, 2, -1),  # -0.5 -> -1
        (1, 3, 0),
        (2, 3, 1),
        (-2, 3, -1),
        (0, 7, 0),
        (10, 1, 10),
        (5, -2, -3),  # a negative denominator is just a sign
    ],
)
def test_round_half_up_integers(numerator: int, denominator: int, expected: int) -> None:
    assert round_half_up(numerator, denominator) == expected


def test_round_half_up_decimal_and_fraction_inputs() -> None:
    assert round_half_up(Decimal("2.5")) == 3
    assert round_half_up(Decimal("-2.5")) == -3
    assert round_half_up(Decimal("2.4999")) == 2
    assert round_half_up(Decimal("2.49999999999999999999999")) == 2
    assert round_half_up(Fraction(5, 2)) == 3
    assert round_half_up(Fraction(703_92, 100)) == 704
    # A result that must be an exact int, not a float.
    assert type(round_half_up(Decimal("2.5"))) is int


@pytest.mark.parametrize(
    ("fen", "unit", "expected"),
    [
        (70392, 100, 70400),  # 703.92 yuan -> 704 yuan
        (70350, 100, 70400),  # 703.50 -> 704 (half up)
        (70349, 100, 70300),  # 703.49 -> 703
        (-70350, 100, -70400),
        (70345, 10, 70350),  # 703.45 -> 703.5 (jiao)
        (70344, 10, 70340),
        (70392, 10, 70390),
        (70392, 1, 70392),
        (50, 100, 100),  # 0.50 yuan -> 1 yuan
        (49, 100, 0),
        (5, 10, 10),  # 5 fen -> 1 jiao
        (4, 10, 0),
    ],
)
def test_round_half_up_to_a_unit(fen: int, unit: int, expected: int) -> None:
    assert round_half_up(fen, 1, unit) == expected


def test_round_half_up_with_denominator_and_unit() -> None:
    # 586600 fen x 1200 bps / 10000 = 70392 fen = 703.92 yuan -> 704 yuan = 70400 fen
    assert round_half_up(586_600 * 1_200, 10_000, 100) == 70_400


def test_percent_of_seed_example() -> None:
    # Seed 003: base 5866 yuan x 12% = 703.92 yuan -> 704 yuan.
    assert percent_of(586_600, 1_200) == 70_400
    assert percent_of(586_600, 1_200, "yuan") == 70_400
    assert percent_of(586_600, 1_200, "jiao") == 70_390  # 703.92 -> 703.9
    assert percent_of(586_600, 1_200, "fen") == 70_392


@pytest.mark.parametrize(
    ("base_fen", "bps", "unit", "expected"),
    [
        (587_000, 500, "yuan", 29_400),  # 5870 x 5% = 293.50 -> 294 (exact half)
        (586_600, 500, "yuan", 29_300),  # 5866 x 5% = 293.30 -> 293
        (586_600, 500, "fen", 29_330),
        (123_457, 700, "fen", 8_642),  # 1234.57 x 7% = 86.4199 -> 86.42
        (123_457, 700, "jiao", 8_640),  # 86.4199 -> 86.4
        (123_457, 700, "yuan", 8_600),  # 86.4199 -> 86
        (100_001, 500, "fen", 5_000),  # 5000.05 fen -> 5000 fen
        (100_010, 500, "fen", 5_001),  # 5000.5 fen -> 5001 fen (half up)
        (0, 1_200, "yuan", 0),
    ],
)
def test_percent_of(base_fen: int, bps: int, unit: str, expected: int) -> None:
    assert percent_of(base_fen, bps, unit) == expected


def test_percent_of_unknown_unit_is_refused() -> None:
    with pytest.raises(KeyError):
        percent_of(586_600, 1_200, "cent")


@pytest.mark.parametrize(
    ("yuan", "fen"),
    [
        ("1234.56", 123_456),
        ("1234.5", 123_450),
        ("1234", 123_400),
        ("0.01", 1),
        ("0.1", 10),
        ("-5.01", -501),
        ("1.230", 123),  # trailing zeros are not extra precision
        (12, 1_200),
        (0, 0),
        (Decimal("703.92"), 70_392),
        ("10000000000.00", 10**12),
    ],
)
def test_yuan_to_fen(yuan: str | int | Decimal, fen: int) -> None:
    result = yuan_to_fen(yuan)
    assert result == fen
    assert type(result) is int


@pytest.mark.parametrize("yuan", ["1.234", "0.001", "-0.005", Decimal("703.925"), "NaN"])
def test_yuan_to_fen_refuses_more_than_two_decimals(yuan: str | Decimal) -> None:
    with pytest.raises(ValueError):
        yuan_to_fen(yuan)


def test_yuan_to_fen_refuses_garbage() -> None:
    # Decimal raises decimal.InvalidOperation (an ArithmeticError, not a ValueError) here.
    with pytest.raises((ValueError, ArithmeticError)):
        yuan_to_fen("abc")


@pytest.mark.parametrize(
    ("fen", "yuan", "text"),
    [
        (139_200, Decimal("1392.00"), "1392.00"),
        (123_456, Decimal("1234.56"), "1234.56"),
        (1, Decimal("0.01"), "0.01"),
        (10, Decimal("0.10"), "0.10"),
        (0, Decimal("0.00"), "0.00"),
        (-5, Decimal("-0.05"), "-0.05"),
        (-123_456, Decimal("-1234.56"), "-1234.56"),
        (10**12, Decimal("10000000000.00"), "10000000000.00"),
    ],
)
def test_fen_to_yuan_and_format(fen: int, yuan: Decimal, text: str) -> None:
    assert fen_to_yuan(fen) == yuan
    assert str(fen_to_yuan(fen)) == text
    assert format_yuan(fen) == text


@pytest.mark.parametrize("fen", [0, 1, 99, 100, 70_392, -501, 10**12 - 1])
def test_yuan_fen_round_trip(fen: int) -> None:
    assert yuan_to_fen(format_yuan(fen)) == fen
    assert yuan_to_fen(fen_to_yuan(fen)) == fen
