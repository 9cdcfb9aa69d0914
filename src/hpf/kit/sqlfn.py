"""Small SQL fragments that differ between SQLite and PostgreSQL."""


def day_number(dialect: str, column: str) -> str:
    """An integer day count of a DATE column, comparable across rows on one engine."""
    if dialect == "sqlite":
        return f"CAST(julianday({column}) AS INTEGER)"
    return f"({column} - DATE '2000-01-01')"


def day_literal(dialect: str, param: str) -> str:
    """day_number() of a bound date parameter."""
    if dialect == "sqlite":
        return f"CAST(julianday(:{param}) AS INTEGER)"
    return f"(CAST(:{param} AS DATE) - DATE '2000-01-01')"


def greatest(dialect: str, a: str, b: str) -> str:
    """The larger of two expressions."""
    if dialect == "sqlite":
        return f"max({a}, {b})"
    return f"GREATEST({a}, {b})"
