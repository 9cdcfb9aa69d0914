"""append-only ledger: the database refuses UPDATE and DELETE of vouchers and postings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 13:30:00

Mistakes in the ledger are corrected by reversal vouchers (hpf.ledger.service.reverse), never
by changing what was posted; these triggers make that hold for every writer of the database,
including hand-typed SQL. Hand-written: autogenerate does not see triggers.

Caution for later revisions: on SQLite, a batch_alter_table that rebuilds ledger_voucher or
ledger_posting drops these triggers with the old table; such a revision must create them again.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("ledger_voucher", "ledger_posting")
PG_FUNCTION = "hpf_refuse_ledger_change"


def upgrade() -> None:
    # The context (unlike get_bind()) also knows the dialect in offline --sql mode.
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        for table in TABLES:
            for event in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER trg_{table}_no_{event.lower()} BEFORE {event} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;"
                )
    elif dialect == "postgresql":
        op.execute(
            f"CREATE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME "
            "USING ERRCODE = 'integrity_constraint_violation'; END $$"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER trg_{table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()"
            )
    else:
        raise NotImplementedError(f"append-only ledger triggers for {dialect}")


def downgrade() -> None:
    # The context (unlike get_bind()) also knows the dialect in offline --sql mode.
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        for table in TABLES:
            for event in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_no_{event}")
    elif dialect == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")
    else:
        raise NotImplementedError(f"append-only ledger triggers for {dialect}")
