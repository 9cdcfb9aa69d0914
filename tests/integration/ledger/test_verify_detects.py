"""`hpf ledger verify` finds books that were edited behind the ledger's back."""

import os
import subprocess
import sys
from datetime import date

import pytest
from sqlalchemy import text

from hpf.catalog import params
from hpf.kit import clock
from hpf.kit.db import transaction
from hpf.ledger import domain
from hpf.ledger import service as ledger
from hpf.ledger.verify import verify


def _books(url: str) -> dict[str, int]:
    """Two balanced vouchers: bank → member 1,000.00 and bank → member 234.56."""
    with clock.frozen(date(2026, 3, 2)), transaction(url) as s:
        ledger.ensure_chart(s)
        params.seed_defaults(s)
        bank = ledger.system_account(s, domain.BANK_SETTLEMENT, "bank").id
        member = ledger.open_account(s, domain.MEMBER_DEPOSITS, "m", owner_kind="member").id
        first = ledger.post(s, "remit", [domain.Line(bank, domain.DEBIT, 100_000),
                                         domain.Line(member, domain.CREDIT, 100_000)],
                            summary="汇缴").id
        ledger.post(s, "remit", [domain.Line(bank, domain.DEBIT, 23_456),
                                 domain.Line(member, domain.CREDIT, 23_456)], summary="汇缴")
        assert verify(s).ok, verify(s).problems
    return {"bank": bank, "member": member, "voucher": first}


def _unguarded(s, url: str) -> None:
    """Lift the append-only triggers, as someone with the database password could."""
    if url.startswith("sqlite"):
        for event in ("update", "delete"):
            s.execute(text(f"DROP TRIGGER trg_ledger_posting_no_{event}"))
    else:
        s.execute(text("ALTER TABLE ledger_posting DISABLE TRIGGER trg_ledger_posting_append_only"))


def test_an_edited_posting_unbalances_its_voucher_and_account(db_url):
    ids = _books(db_url)
    with transaction(db_url) as s:
        _unguarded(s, db_url)
        s.execute(text("UPDATE ledger_posting SET amount_fen = 99000 WHERE voucher_id = :v "
                       "AND side = 'C'"), {"v": ids["voucher"]})
    with transaction(db_url) as s:
        report = verify(s)
    assert not report.ok
    assert f"voucher {ids['voucher']}: debits 100000 credits 99000 total 100000 lines 2/2" \
        in report.problems
    assert f"account {ids['member']}: balance 123456 but postings sum to 122456" \
        in report.problems


def test_a_deleted_posting_and_an_edited_balance_are_reported(db_url):
    ids = _books(db_url)
    with transaction(db_url) as s:
        _unguarded(s, db_url)
        s.execute(text("DELETE FROM ledger_posting WHERE voucher_id = :v AND side = 'D'"),
                  {"v": ids["voucher"]})
        s.execute(text("UPDATE ledger_account SET balance_fen = balance_fen + 1 WHERE id = :a"),
                  {"a": ids["member"]})
    with transaction(db_url) as s:
        problems = verify(s).problems
    assert f"voucher {ids['voucher']}: debits 0 credits 100000 total 100000 lines 1/2" in problems
    assert f"account {ids['member']}: balance 123457 but postings sum to 123456" in problems
    assert f"account {ids['bank']}: balance 123456 but postings sum to 23456" in problems
    assert any(p.startswith(f"subject {domain.MEMBER_DEPOSITS}:") for p in problems)


@pytest.mark.parametrize("tamper", [False, True])
def test_the_command_exits_non_zero_on_a_problem(sqlite_url, tamper):
    ids = _books(sqlite_url)
    if tamper:
        with transaction(sqlite_url) as s:
            s.execute(text("UPDATE ledger_account SET balance_fen = 0 WHERE id = :a"),
                      {"a": ids["member"]})
    done = subprocess.run(
        [sys.executable, "-m", "hpf.cli", "ledger", "verify"], capture_output=True, text=True,
        env={**os.environ, "HPF_DATABASE_URL": sqlite_url, "COLUMNS": "200"}, timeout=120)
    if tamper:
        assert done.returncode == 1
        assert f"account {ids['member']}: balance 0 but postings sum to 123456" in done.stdout
    else:
        assert done.returncode == 0, done.stdout + done.stderr
        assert "ledger verified" in done.stdout
