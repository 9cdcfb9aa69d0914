"""Money in integer fen (分) and the one rounding rule of the platform.

Every computed amount is rounded once, half-up (四舍五入), at the end of its computation
(domain-rules §2). `round_half_up` is that rule for Python; `sql_round_half_up` renders the
same rule for set-based SQL so a batch job can apply it to a million rows without loading them.
A property test asserts the two agree.
"""

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

FEN_PER_YUAN = 100
# Largest amount accepted anywhere: 10 billion yuan. Far above any real business, far below
# the BigInteger range, so products with days and rates cannot overflow 64 bits.
MAX_AMOUNT_FEN = 10**12

ROUNDING_UNITS_FEN = {"fen": 1, "jiao": 10, "yuan": 100}


def round_half_up(numerator: int | Fraction | Decimal, denominator: int = 1, unit: int = 1) -> int:
    """Round numerator/denominator half-up (away from zero on .5) to a multiple of `unit`."""
    value = Fraction(numerator) / Fraction(denominator) / unit
    sign = -1 if value < 0 else 1
    magnitude = abs(value)
    whole = magnitude.numerator // magnitude.denominator
    if (magnitude - whole) * 2 >= 1:
        whole += 1
    return sign * whole * unit


def sql_round_half_up(numerator_sql: str, denominator: int) -> str:
    """SQL text of round_half_up(numerator/denominator) for a non-negative integer expression.

    Integer division truncates on both SQLite and PostgreSQL, so (2n + d) / (2d) is the
    half-up quotient for n >= 0. Callers guarantee the numerator is never negative.
    """
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    return f"((2 * ({numerator_sql}) + {denominator}) / {2 * denominator})"


def yuan_to_fen(yuan: str | int | Decimal) -> int:
    """Parse a yuan amount ('1234.56') exactly into fen; more than 2 decimals is an error."""
    d = Decimal(str(yuan))
    fen = d * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise ValueError("amount has more than two decimal places")
    return int(fen)


def fen_to_yuan(fen: int) -> Decimal:
    """Return the yuan value of an amount in fen, exact to two decimals."""
    return (Decimal(fen) / FEN_PER_YUAN).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def format_yuan(fen: int) -> str:
    """Format fen as a yuan string with two decimals ('1392.00')."""
    return f"{fen_to_yuan(fen):.2f}"


def percent_of(base_fen: int, ratio_bps: int, unit: str = "yuan") -> int:
    """base × ratio (in basis points), rounded half-up once to the rounding unit."""
    return round_half_up(base_fen * ratio_bps, 10_000, ROUNDING_UNITS_FEN[unit])
