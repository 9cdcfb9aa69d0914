"""A settlement that crashes half-way resumes without paying anyone twice."""

from datetime import date

import pytest
from sqlalchemy import func, insert, select

from hpf.catalog import params
from hpf.deposits.jobs import run_interest_settlement
from hpf.jobs.models import JobChunk
from hpf.kit import clock
from hpf.kit.db import session_factory, transaction
from hpf.ledger import bulk
from hpf.ledger import domain as ledger_domain
from hpf.ledger import service as ledger
from hpf.ledger.models import LedgerAccount, Posting
from hpf.ledger.verify import verify


def _accounts_with_money(url: str, n: int) -> None:
    """n member accounts, each credited 1000 yuan on 2025-07-01 against the bank."""
    with clock.frozen(date(2025, 7, 1)), transaction(url) as s:
        ledger.ensure_chart(s)
        params.seed_defaults(s)
        bank = ledger.system_account(s, ledger_domain.BANK_SETTLEMENT, "bank")
        ids = [ledger.open_account(s, ledger_domain.MEMBER_DEPOSITS, f"m{i}",
                                   owner_kind="member").id for i in range(n)]
        s.execute(_create_source_table())
        s.execute(insert(_source_table()), [{"account_id": i, "amount_fen": 100_000} for i in ids])
        bulk.bulk_credit(s, "remit", "SELECT account_id, amount_fen, 202507 AS period FROM "
                         "bench_tmp_credit", {}, debit_account_id=bank.id,
                         value_date=date(2025, 7, 1), summary="opening")


def _create_source_table():
    from sqlalchemy import text

    return text("CREATE TABLE IF NOT EXISTS bench_tmp_credit (account_id BIGINT PRIMARY KEY, "
                "amount_fen BIGINT NOT NULL)")


def _source_table():
    from sqlalchemy import BigInteger, Column, MetaData, Table

    return Table("bench_tmp_credit", MetaData(), Column("account_id", BigInteger),
                 Column("amount_fen", BigInteger))


def test_crash_then_resume_pays_each_account_once(db_url, monkeypatch):
    _accounts_with_money(db_url, 10)
    factory = session_factory(db_url)
    real = bulk.settle_interest_range
    calls = {"n": 0}

    def crashing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("power cut")
        return real(*args, **kwargs)

    monkeypatch.setattr(bulk, "settle_interest_range", crashing)
    with clock.frozen(date(2026, 6, 30)), pytest.raises(RuntimeError):
        run_interest_settlement(factory, date(2026, 6, 30), chunk_size=3)
    with transaction(db_url) as s:
        assert s.scalar(select(func.count()).select_from(JobChunk)) == 2
        assert verify(s).ok, verify(s).problems
    monkeypatch.setattr(bulk, "settle_interest_range", real)
    with clock.frozen(date(2026, 6, 30)):
        resumed = run_interest_settlement(factory, date(2026, 6, 30), chunk_size=3)
    assert resumed.chunks_skipped == 2 and resumed.chunks_run == 2
    # 100 000 fen for 365 days at 1.5 %: 100000 × 365 × 0.015 / 360 = 1520.833… -> 1521 fen
    assert resumed.amount_fen == 10 * 1521
    with transaction(db_url) as s:
        paid = s.execute(select(Posting.account_id, func.count()).where(
            Posting.entry_type == "interest").group_by(Posting.account_id)).all()
        member_rows = [n for aid, n in paid
                       if s.get(LedgerAccount, aid).subject_code == ledger_domain.MEMBER_DEPOSITS]
        assert member_rows == [1] * 10
        assert verify(s).ok, verify(s).problems
