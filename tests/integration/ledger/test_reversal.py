"""Mistakes are corrected by reversal vouchers with a reason, never by editing postings."""

from datetime import date

import pytest
from sqlalchemy import func, select

from hpf.catalog import params
from hpf.kit import clock
from hpf.kit.db import transaction
from hpf.kit.errors import HpfError
from hpf.ledger import domain
from hpf.ledger import service as ledger
from hpf.ledger.models import LedgerAccount, Posting, Voucher
from hpf.ledger.verify import verify


def test_reversal_restores_balances_and_keeps_history(db_url):
    with clock.frozen(date(2026, 3, 2)), transaction(db_url) as s:
        ledger.ensure_chart(s)
        params.seed_defaults(s)
        bank = ledger.system_account(s, domain.BANK_SETTLEMENT, "bank").id
        member = ledger.open_account(s, domain.MEMBER_DEPOSITS, "m", owner_kind="member").id
        wrong = ledger.post(s, "remit", [domain.Line(bank, domain.DEBIT, 123_400),
                                         domain.Line(member, domain.CREDIT, 123_400)],
                            summary="录入错误的汇缴").id
    with clock.frozen(date(2026, 3, 3)), transaction(db_url) as s:
        with pytest.raises(HpfError) as no_reason:
            ledger.reverse(s, wrong, "  ")
        assert no_reason.value.code == "LEDGER_REASON_REQUIRED"
        fix = ledger.reverse(s, wrong, "金额录入错误")
        assert fix.reverses_id == wrong and fix.reason == "金额录入错误"
    with transaction(db_url) as s:
        assert s.get(LedgerAccount, member).balance_fen == 0
        assert s.get(LedgerAccount, member).accrual_fen_days == 0
        assert s.scalar(select(func.count()).select_from(Posting)) == 4
        assert s.scalar(select(func.count()).select_from(Voucher)) == 2
        assert verify(s).ok, verify(s).problems
    with clock.frozen(date(2026, 3, 4)), transaction(db_url) as s:
        with pytest.raises(HpfError) as twice:
            ledger.reverse(s, wrong, "再次冲正")
        assert twice.value.code == "LEDGER_ALREADY_REVERSED"
        with pytest.raises(HpfError) as of_reversal:
            ledger.reverse(s, fix.id, "冲正的冲正")
        assert of_reversal.value.code == "LEDGER_REVERSAL_OF_REVERSAL"


def test_unbalanced_and_overdrawing_vouchers_are_refused(db_url):
    with clock.frozen(date(2026, 3, 2)), transaction(db_url) as s:
        ledger.ensure_chart(s)
        bank = ledger.system_account(s, domain.BANK_SETTLEMENT, "bank").id
        member = ledger.open_account(s, domain.MEMBER_DEPOSITS, "m", owner_kind="member").id
        with pytest.raises(HpfError) as unbalanced:
            ledger.post(s, "remit", [domain.Line(bank, domain.DEBIT, 100),
                                     domain.Line(member, domain.CREDIT, 99)], summary="x")
        assert unbalanced.value.code == "LEDGER_UNBALANCED"
        with pytest.raises(HpfError) as overdraw:
            ledger.post(s, "withdrawal", [domain.Line(member, domain.DEBIT, 1),
                                          domain.Line(bank, domain.CREDIT, 1)], summary="x")
        assert overdraw.value.code == "LEDGER_INSUFFICIENT"
        with pytest.raises(HpfError) as next_year:
            ledger.post(s, "remit", [domain.Line(bank, domain.DEBIT, 1),
                                     domain.Line(member, domain.CREDIT, 1)], summary="x",
                        value_date=date(2026, 7, 1))
        assert next_year.value.code == "LEDGER_YEAR_NOT_SETTLED"


def test_reserved_money_is_held_then_posted_or_released(db_url):
    with clock.frozen(date(2026, 3, 2)), transaction(db_url) as s:
        ledger.ensure_chart(s)
        bank = ledger.system_account(s, domain.BANK_SETTLEMENT, "bank").id
        payout = ledger.system_account(s, domain.PAYOUT_PENDING).id
        member = ledger.open_account(s, domain.MEMBER_DEPOSITS, "m", owner_kind="member").id
        ledger.post(s, "remit", [domain.Line(bank, domain.DEBIT, 10_000),
                                 domain.Line(member, domain.CREDIT, 10_000)], summary="in")
        first = ledger.reserve(s, member, 6_000, "申请A")
        with pytest.raises(HpfError) as short:
            ledger.reserve(s, member, 5_000, "申请B")  # only 4 000 still available
        assert short.value.code == "LEDGER_INSUFFICIENT"
        ledger.post_reservation(s, first.id, "withdrawal", payout, summary="提取")
        second = ledger.reserve(s, member, 4_000, "申请B")
        ledger.release(s, second.id)
        account = s.get(LedgerAccount, member)
        assert (account.balance_fen, account.reserved_fen) == (4_000, 0)
        with pytest.raises(HpfError):
            ledger.release(s, second.id)  # a hold is settled once
    with transaction(db_url) as s:
        assert verify(s).ok, verify(s).problems
