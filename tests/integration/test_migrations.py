"""Migrations: one head, upgrade to head on both engines, models == migrations (`alembic
check`), and the append-only ledger triggers of revision 0002."""

from datetime import date

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from hpf.kit import db, migrate
from hpf.ledger import service
from hpf.ledger.domain import BANK_SETTLEMENT, CREDIT, DEBIT, MEMBER_DEPOSITS, Line

TRIGGER_REVISION = "0002"


def test_single_head() -> None:
    assert len(migrate.heads()) == 1
    assert migrate.head() == migrate.heads()[0]


def test_upgrade_head(db_url: str) -> None:
    assert migrate.current(db_url) == migrate.head()
    engine = db.make_engine(db_url)
    tables = set(inspect(engine).get_table_names())
    assert {"ledger_posting", "ledger_voucher", "ledger_account", "alembic_version"} <= tables


def test_models_match_migrations(db_url: str) -> None:
    """`alembic check`: autogenerate finds nothing left to migrate."""
    migrate.check(db_url)


def test_check_reports_a_difference(sqlite_url: str) -> None:
    with db.transaction(sqlite_url) as session:
        session.execute(text("DROP INDEX ix_ledger_posting_voucher"))
    with pytest.raises(migrate.MigrationError):
        migrate.check(sqlite_url)


def test_current_of_a_new_database(tmp_path) -> None:
    assert migrate.current(f"sqlite:///{tmp_path / 'none.sqlite3'}") is None
    assert not (tmp_path / "none.sqlite3").exists()


def _post_one(url: str) -> tuple[int, int]:
    with db.transaction(url) as session:
        service.ensure_chart(session)
        bank = service.open_account(session, BANK_SETTLEMENT, "bank", opened_on=date(2026, 1, 5))
        member = service.open_account(
            session, MEMBER_DEPOSITS, "member", owner_kind="member", owner_id=1,
            opened_on=date(2026, 1, 5),
        )
        voucher = service.post(
            session, "remit",
            [Line(bank.id, DEBIT, 12_345), Line(member.id, CREDIT, 12_345)],
            summary="test remit", value_date=date(2026, 1, 5),
        )
        posting_id = session.scalar(
            text("SELECT MIN(id) FROM ledger_posting WHERE voucher_id = :v"), {"v": voucher.id}
        )
        return voucher.id, posting_id


REFUSED = [
    ("UPDATE ledger_posting SET memo = 'changed' WHERE id = :p", "ledger_posting"),
    ("UPDATE ledger_posting SET amount_fen = 1 WHERE id = :p", "ledger_posting"),
    ("DELETE FROM ledger_posting WHERE id = :p", "ledger_posting"),
    ("UPDATE ledger_voucher SET summary = 'changed' WHERE id = :v", "ledger_voucher"),
    ("DELETE FROM ledger_voucher WHERE id = :v", "ledger_voucher"),
]


REFUSED_IDS = [f"{sql.split()[0].lower()}-{table}" for sql, table in REFUSED]


@pytest.mark.parametrize(("sql", "table"), REFUSED, ids=REFUSED_IDS)
def test_ledger_is_append_only(db_url: str, sql: str, table: str) -> None:
    voucher_id, posting_id = _post_one(db_url)
    with pytest.raises(DBAPIError, match=f"{table} is append-only"), db.transaction(db_url) as s:
        s.execute(text(sql), {"p": posting_id, "v": voucher_id})
    with db.transaction(db_url) as session:
        row = session.execute(
            text("SELECT memo, amount_fen FROM ledger_posting WHERE id = :p"), {"p": posting_id}
        ).one()
        assert row.amount_fen == 12_345
        assert row.memo is None
        assert session.scalar(text("SELECT summary FROM ledger_voucher")) == "test remit"


def test_reversal_still_allowed(db_url: str) -> None:
    """Corrections go through reversal vouchers, which only insert."""
    voucher_id, _ = _post_one(db_url)
    with db.transaction(db_url) as session:
        service.reverse(session, voucher_id, "wrong amount")
    with db.transaction(db_url) as session:
        assert session.scalar(text("SELECT COUNT(*) FROM ledger_posting")) == 4


def test_trigger_revision_downgrades_and_upgrades(db_url: str) -> None:
    voucher_id, _ = _post_one(db_url)
    db.dispose_all()
    migrate.downgrade(db_url, "0001")
    assert migrate.current(db_url) == "0001"
    with db.transaction(db_url) as session:
        session.execute(text("UPDATE ledger_voucher SET summary = 'fixed' WHERE id = :v"),
                        {"v": voucher_id})
    db.dispose_all()
    migrate.upgrade(db_url)
    assert migrate.current(db_url) == migrate.head()
    with pytest.raises(DBAPIError, match="append-only"), db.transaction(db_url) as session:
        session.execute(text("DELETE FROM ledger_voucher WHERE id = :v"), {"v": voucher_id})
