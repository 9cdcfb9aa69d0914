"""remittance lines keyed by (period, member_id, list_id); no foreign keys on member_id and
account_id; control totals of the batch per member range

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 15:00:00

The month's batch writes a million lines in member order and credits them back in member
order, so each month's lines are one contiguous run of the key instead of being scattered by
list; the index by member (which every month's insert hit at random) gives way to an index by
list, and a member's history is found by seeks on (period, member_id). The foreign keys on
member_id and account_id cost half of writing the lines on PostgreSQL and guarded nothing the
writers do not already guarantee (see hpf.deposits.models.RemitLine).

SQLite cannot change a primary key in place, so the table is rebuilt (WITHOUT ROWID, which a
batch_alter_table would not carry over); PostgreSQL alters it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "dep_remit_line"
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
COLUMNS = ("list_id, member_id, period, account_id, base_fen, unit_ratio_bps, member_ratio_bps, "
           "unit_fen, member_fen, amount_fen")


def _sqlite_rebuild(key: tuple[str, ...], old_keys: bool, index: tuple[str, list[str]]) -> None:
    """Rebuild the table under a new key, copying the rows in key order."""
    op.execute(f"ALTER TABLE {TABLE} RENAME TO {TABLE}_old")
    extra = []
    if old_keys:
        extra.append(sa.ForeignKeyConstraint(
            ["account_id"], ["ledger_account.id"],
            name="fk_dep_remit_line_account_id_ledger_account"))
        extra.append(sa.ForeignKeyConstraint(
            ["member_id"], ["dep_member.id"], name="fk_dep_remit_line_member_id_dep_member"))
    op.create_table(
        TABLE,
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("list_id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("base_fen", sa.BigInteger(), nullable=False),
        sa.Column("unit_ratio_bps", sa.Integer(), nullable=False),
        sa.Column("member_ratio_bps", sa.Integer(), nullable=False),
        sa.Column("unit_fen", sa.BigInteger(), nullable=False),
        sa.Column("member_fen", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_fen = unit_fen + member_fen",
                           name=op.f("ck_dep_remit_line_parts")),
        sa.ForeignKeyConstraint(["list_id"], ["dep_remit_list.id"],
                                name=op.f("fk_dep_remit_line_list_id_dep_remit_list")),
        *extra,
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_dep_remit_line")),
        sqlite_with_rowid=False,
    )
    op.execute(f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {COLUMNS} FROM {TABLE}_old "
               f"ORDER BY {', '.join(key)}")
    op.execute(f"DROP TABLE {TABLE}_old")
    op.create_index(index[0], TABLE, index[1])


def upgrade() -> None:
    op.create_table(
        "dep_remit_range_total",
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("range_lo", ID, nullable=False),
        sa.Column("list_id", ID, nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("unit_fen", sa.BigInteger(), nullable=False),
        sa.Column("member_fen", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["list_id"], ["dep_remit_list.id"],
                                name="fk_dep_remit_range_total_list_id_dep_remit_list"),
        sa.PrimaryKeyConstraint("period", "range_lo", "list_id", name="pk_dep_remit_range_total"),
    )
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        _sqlite_rebuild(("period", "member_id", "list_id"), False,
                        ("ix_dep_remit_line_by_list", ["list_id"]))
    elif dialect == "postgresql":
        op.drop_constraint("fk_dep_remit_line_account_id_ledger_account", TABLE,
                           type_="foreignkey")
        op.drop_constraint("fk_dep_remit_line_member_id_dep_member", TABLE, type_="foreignkey")
        op.drop_constraint("pk_dep_remit_line", TABLE, type_="primary")
        op.create_primary_key("pk_dep_remit_line", TABLE, ["period", "member_id", "list_id"])
        op.drop_index("ix_dep_remit_line_by_member", table_name=TABLE)
        op.create_index("ix_dep_remit_line_by_list", TABLE, ["list_id"])
    else:
        raise NotImplementedError(f"remittance line key for {dialect}")


def downgrade() -> None:
    op.drop_table("dep_remit_range_total")
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        _sqlite_rebuild(("list_id", "member_id", "period"), True,
                        ("ix_dep_remit_line_by_member", ["member_id", "period"]))
    elif dialect == "postgresql":
        op.drop_index("ix_dep_remit_line_by_list", table_name=TABLE)
        op.create_index("ix_dep_remit_line_by_member", TABLE, ["member_id", "period"])
        op.drop_constraint("pk_dep_remit_line", TABLE, type_="primary")
        op.create_primary_key("pk_dep_remit_line", TABLE, ["list_id", "member_id", "period"])
        op.create_foreign_key("fk_dep_remit_line_account_id_ledger_account", TABLE,
                              "ledger_account", ["account_id"], ["id"])
        op.create_foreign_key("fk_dep_remit_line_member_id_dep_member", TABLE,
                              "dep_member", ["member_id"], ["id"])
    else:
        raise NotImplementedError(f"remittance line key for {dialect}")
