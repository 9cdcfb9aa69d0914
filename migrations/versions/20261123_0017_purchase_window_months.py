"""parameter withdrawal.purchase_window_days becomes withdrawal.purchase_window_months

"Within 2 years of the purchase" counted as 730 days refused applications made on the second
anniversary when a 29 February lay between; the rules now count calendar months. Stored
values of the old key are renamed so no database keeps a parameter the code no longer reads:
days become whole months, rounded down over a 365-day year (730 → 24, 365 → 12), at least 1.
A value already stored under the new key for the same date wins over the converted one.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-23 02:00:00+00:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | Sequence[str] | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KEY, NEW_KEY = "withdrawal.purchase_window_days", "withdrawal.purchase_window_months"
OLD_NOTE, NEW_NOTE = "购房后可申请提取的期限（天）", "购房后可申请提取的期限（月）"

param = sa.table("param_value", sa.column("id", sa.BigInteger), sa.column("key", sa.String),
                 sa.column("effective_from", sa.Date), sa.column("value_json", sa.Text),
                 sa.column("note", sa.String))


def _months(days: int) -> int:
    return max(1, days * 12 // 365)


def _days(months: int) -> int:
    return min(3650, max(30, months * 365 // 12))


def _rename(old_key: str, new_key: str, convert, old_note: str, new_note: str) -> None:
    conn = op.get_bind()
    taken = set(conn.execute(sa.select(param.c.effective_from)
                             .where(param.c.key == new_key)).scalars())
    rows = conn.execute(sa.select(param.c.id, param.c.effective_from, param.c.value_json,
                                  param.c.note).where(param.c.key == old_key)).all()
    for row in rows:
        if row.effective_from in taken:
            conn.execute(sa.delete(param).where(param.c.id == row.id))
            continue
        conn.execute(sa.update(param).where(param.c.id == row.id).values(
            key=new_key, value_json=json.dumps(convert(int(json.loads(row.value_json)))),
            note=new_note if row.note == old_note else row.note))


def upgrade() -> None:
    _rename(OLD_KEY, NEW_KEY, _months, OLD_NOTE, NEW_NOTE)


def downgrade() -> None:
    _rename(NEW_KEY, OLD_KEY, _days, NEW_NOTE, OLD_NOTE)
