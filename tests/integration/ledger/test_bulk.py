"""Set-based crediting refuses bad sources before anything is written."""

from datetime import date

import pytest
from sqlalchemy import func, select

from hpf.kit import clock
from hpf.kit.db import transaction
from hpf.kit.errors import HpfError
from hpf.ledger import bulk, domain
from hpf.ledger import service as ledger
from hpf.ledger.models import LedgerAccount, Posting
from hpf.ledger.verify import verify


def _setup(url):
    with clock.frozen(date(2026, 3, 2)), transaction(url) as s:
        ledger.ensure_chart(s)
        bank = ledger.system_account(s, domain.BANK_SETTLEMENT, "bank").id
        a = ledger.open_account(s, domain.MEMBER_DEPOSITS, "a", owner_kind="member").id
        b = ledger.open_account(s, domain.MEMBER_DEPOSITS, "b", owner_kind="member").id
        closed = ledger.open_account(s, domain.MEMBER_DEPOSITS, "c", owner_kind="member").id
        ledger.close_account(s, closed, date(2026, 3, 2))
    return bank, a, b, closed


def _source(rows):
    parts = [f"SELECT {acc} AS account_id, {amt} AS amount_fen, 202603 AS period"
             for acc, amt in rows]
    return " UNION ALL ".join(parts)


@pytest.mark.parametrize("bad", ["duplicate", "closed", "missing", "nonpositive", "bank"])
def test_bad_source_is_refused_whole(db_url, bad):
    bank, a, b, closed = _setup(db_url)
    rows = {"duplicate": [(a, 100), (a, 200)], "closed": [(a, 100), (closed, 100)],
            "missing": [(a, 100), (999_999, 100)], "nonpositive": [(a, 100), (b, 0)],
            "bank": [(a, 100), (bank, 100)]}[bad]
    with clock.frozen(date(2026, 3, 3)), transaction(db_url) as s:
        with pytest.raises(HpfError) as refused:
            bulk.bulk_credit(s, "remit", _source(rows), {}, debit_account_id=bank,
                             value_date=date(2026, 3, 3), summary="t")
        assert refused.value.code == "LEDGER_BULK_REFUSED"
        assert s.get(LedgerAccount, a).balance_fen == 0
    with transaction(db_url) as s:
        assert s.scalar(select(func.count()).select_from(Posting)) == 0
        assert verify(s).ok


def test_good_source_credits_every_row(db_url):
    bank, a, b, _ = _setup(db_url)
    with clock.frozen(date(2026, 3, 3)), transaction(db_url) as s:
        voucher = bulk.bulk_credit(s, "remit", _source([(a, 100), (b, 250)]), {},
                                   debit_account_id=bank, value_date=date(2026, 3, 3),
                                   summary="t")
        assert voucher.total_fen == 350 and voucher.line_count == 3
    with transaction(db_url) as s:
        assert s.get(LedgerAccount, b).balance_fen == 250
        # 250 fen from 3 March to 1 July: 120 days.
        assert s.get(LedgerAccount, b).accrual_fen_days == 250 * 120
        assert verify(s).ok, verify(s).problems
