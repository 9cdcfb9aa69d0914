"""Properties of the rounding rule, in Python and in the SQL that batch jobs run."""

import sqlite3
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hpf.kit.money import MAX_AMOUNT_FEN, round_half_up, sql_round_half_up

_INT64_MAX = 2**63 - 1


def _decimal_half_up(numerator: int, denominator: int, unit: int = 1) -> int:
    with localcontext() as ctx:
        ctx.prec = 200  # exact for every value drawn here
        q = Decimal(numerator) / Decimal(denominator) / Decimal(unit)
        return int(q.quantize(Decimal(1), rounding=ROUND_HALF_UP)) * unit


numerators = st.integers(-(10**18), 10**18)
denominators = st.integers(1, 10**9)


@given(numerators, denominators)
def test_round_half_up_matches_decimal_quantize(n: int, d: int) -> None:
    assert round_half_up(n, d) == _decimal_half_up(n, d)


@given(numerators, denominators, st.sampled_from([1, 10, 100]))
def test_round_half_up_to_unit_matches_decimal_quantize(n: int, d: int, unit: int) -> None:
    result = round_half_up(n, d, unit)
    assert result == _decimal_half_up(n, d, unit)
    assert result % unit == 0


@given(numerators, denominators)
def test_round_half_up_is_odd_symmetric(n: int, d: int) -> None:
    assert round_half_up(-n, d) == -round_half_up(n, d)


@given(numerators, denominators)
def test_round_half_up_is_within_half(n: int, d: int) -> None:
    r = round_half_up(n, d)
    error = Fraction(n, d) - r
    # |error| <= 1/2, and exactly 1/2 only when rounding towards zero never happens:
    assert abs(error) <= Fraction(1, 2)
    if abs(error) == Fraction(1, 2):
        assert abs(r) > abs(Fraction(n, d))


@pytest.fixture(scope="module")
def sqlite_conn() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    yield conn
    conn.close()


def _sql_value(conn: sqlite3.Connection, n: int, d: int) -> object:
    (value,) = conn.execute(f"SELECT {sql_round_half_up(str(n), d)}").fetchone()
    return value


@given(st.integers(0, 10**15), st.integers(1, 10**9))
def test_sql_round_half_up_matches_python_in_sqlite(n: int, d: int) -> None:
    conn = sqlite3.connect(":memory:")
    try:
        value = _sql_value(conn, n, d)
    finally:
        conn.close()
    assert type(value) is int
    assert value == round_half_up(n, d)


@given(st.integers(0, _INT64_MAX // 2 - 10**9), st.integers(1, 10**9))
def test_sql_round_half_up_matches_python_up_to_int64_range(n: int, d: int) -> None:
    # Within the range where 2n + d still fits a signed 64-bit integer.
    assume(2 * n + d <= _INT64_MAX)
    conn = sqlite3.connect(":memory:")
    try:
        value = _sql_value(conn, n, d)
    finally:
        conn.close()
    assert value == round_half_up(n, d)


@pytest.mark.parametrize(
    ("n", "d", "expected"),
    [
        (0, 2, 0),
        (1, 2, 1),  # 0.5 -> 1
        (3, 2, 2),  # 1.5 -> 2
        (5, 2, 3),  # 2.5 -> 3
        (24_999, 10_000, 2),
        (25_000, 10_000, 3),
        (70_392, 100, 704),
        (180_000_000, 360_000_000, 1),  # exactly half a fen of interest
        (179_999_999, 360_000_000, 0),
    ],
)
def test_sql_round_half_up_golden(
    sqlite_conn: sqlite3.Connection, n: int, d: int, expected: int
) -> None:
    assert _sql_value(sqlite_conn, n, d) == expected
    assert round_half_up(n, d) == expected


def test_sql_round_half_up_works_on_a_column(sqlite_conn: sqlite3.Connection) -> None:
    rows = [(1, 0), (2, 1), (3, 179_999_999), (4, 180_000_000), (5, 540_000_000)]
    sqlite_conn.execute("CREATE TEMP TABLE t (id INTEGER PRIMARY KEY, n INTEGER)")
    sqlite_conn.executemany("INSERT INTO t VALUES (?, ?)", rows)
    got = sqlite_conn.execute(
        f"SELECT id, {sql_round_half_up('n', 360_000_000)} FROM t ORDER BY id"
    ).fetchall()
    assert got == [(i, round_half_up(n, 360_000_000)) for i, n in rows]
    sqlite_conn.execute("DROP TABLE t")


@pytest.mark.parametrize("d", [0, -1])
def test_sql_round_half_up_refuses_non_positive_denominator(d: int) -> None:
    with pytest.raises(ValueError):
        sql_round_half_up("n", d)


def test_batch_interest_expression_at_max_amount_does_not_overflow(
    sqlite_conn: sqlite3.Connection,
) -> None:
    from hpf.ledger.bulk import interest_expr

    # A balance of MAX_AMOUNT_FEN held for a whole leap interest year at 1.5% (15000 ppm).
    accrual_fen_days = MAX_AMOUNT_FEN * 366
    expr = interest_expr(15_000).replace("accrual_fen_days", str(accrual_fen_days))
    (value,) = sqlite_conn.execute(f"SELECT {expr}").fetchone()
    expected = round_half_up(accrual_fen_days * 15_000, 360 * 1_000_000)
    assert expected == 15_250_000_000
    assert type(value) is int
    assert value == expected
