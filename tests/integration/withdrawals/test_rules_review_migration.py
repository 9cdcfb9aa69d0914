"""Migration 0017: stored values of withdrawal.purchase_window_days become
withdrawal.purchase_window_months (whole months, rounded down), and back on downgrade."""

import json
from datetime import date

from sqlalchemy import create_engine, text

from hpf.kit import migrate

OLD, NEW = "withdrawal.purchase_window_days", "withdrawal.purchase_window_months"


def _rows(url: str) -> list[tuple[str, date, object, str | None]]:
    engine = create_engine(migrate._driver_url(url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT key, effective_from, value_json, note FROM param_value "
                "WHERE key LIKE 'withdrawal.%' ORDER BY key, effective_from")).all()
    finally:
        engine.dispose()
    return [(k, d if isinstance(d, date) else date.fromisoformat(d), json.loads(v), n)
            for k, d, v, n in rows]


def _insert(url: str, rows: list[tuple[str, date, int, str | None]]) -> None:
    engine = create_engine(migrate._driver_url(url))
    try:
        with engine.begin() as conn:
            for key, since, value, note in rows:
                conn.execute(text(
                    "INSERT INTO param_value (key, effective_from, value_json, note, created_at) "
                    "VALUES (:k, :d, :v, :n, CURRENT_TIMESTAMP)"),
                    {"k": key, "d": since, "v": json.dumps(value), "n": note})
    finally:
        engine.dispose()


def test_days_become_months_and_back(empty_url: str) -> None:
    migrate.upgrade(empty_url, "0016")
    _insert(empty_url, [
        (OLD, date(2000, 1, 1), 730, "购房后可申请提取的期限（天）"),  # the default row
        (OLD, date(2026, 1, 1), 1000, "延长"),  # 1000 × 12 / 365 = 32.9 → 32 months
        (OLD, date(2026, 7, 1), 30, None),  # 0.99 → at least 1 month
        (OLD, date(2027, 1, 1), 400, None),  # a new-key row of that day already exists
        (NEW, date(2027, 1, 1), 18, None),
        ("withdrawal.non_local_sealed_months", date(2000, 1, 1), 6, None),
    ])
    migrate.upgrade(empty_url, "0017")
    assert _rows(empty_url) == [
        ("withdrawal.non_local_sealed_months", date(2000, 1, 1), 6, None),
        (NEW, date(2000, 1, 1), 24, "购房后可申请提取的期限（月）"),
        (NEW, date(2026, 1, 1), 32, "延长"),
        (NEW, date(2026, 7, 1), 1, None),
        (NEW, date(2027, 1, 1), 18, None),
    ]
    migrate.downgrade(empty_url, "0016")
    # 24 × 365 / 12 = 730; 32 → 973; 1 → 30 (the old minimum); 18 → 547.
    assert _rows(empty_url) == [
        ("withdrawal.non_local_sealed_months", date(2000, 1, 1), 6, None),
        (OLD, date(2000, 1, 1), 730, "购房后可申请提取的期限（天）"),
        (OLD, date(2026, 1, 1), 973, "延长"),
        (OLD, date(2026, 7, 1), 30, None),
        (OLD, date(2027, 1, 1), 547, None),
    ]
