"""Set-based posting for batch jobs: one voucher credits many accounts in a few statements.

A remittance or an interest run touches up to a million accounts. Here the balances move in
one UPDATE ... FROM and the postings are written by one INSERT ... SELECT, so nothing loads
the rows into Python. The UPDATE runs first: it takes the row locks, and the INSERT then reads
the balances it just wrote as each posting's balance-after.
"""

import math
from datetime import date
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from hpf.kit import clock
from hpf.kit.money import sql_round_half_up
from hpf.ledger import domain
from hpf.ledger.models import LedgerSubject, Voucher
from hpf.ledger.service import LedgerError, _lock_accounts, _move_subjects


def bulk_credit(
    session: Session,
    entry_type: str,
    source_sql: str,
    params: dict[str, Any],
    *,
    debit_account_id: int | None = None,
    debit_lines: list[tuple[int, int]] | None = None,
    value_date: date,
    summary: str,
    memo: str | None = None,
    command_id: int | None = None,
) -> Voucher | None:
    """Credit member deposit accounts from rows (account_id, amount_fen, period) of a SELECT.

    The counterpart is one debit line on `debit_account_id`, or the given `debit_lines`
    (account, amount), which must add up to the credited total. List-valued parameters bind as
    IN lists. Returns None when the source is empty. Refuses duplicates, non-positive amounts,
    closed accounts and accounts outside the value date's interest year, before anything is
    written.
    """
    src = f"({source_sql})"
    count, total, nonpositive = _exec(
        session,
        f"SELECT COUNT(*), CAST(COALESCE(SUM(s.amount_fen), 0) AS BIGINT), "
        f"COALESCE(SUM(CASE WHEN s.amount_fen <= 0 THEN 1 ELSE 0 END), 0) FROM {src} s",
        params,
    ).one()
    if count == 0:
        return None
    if debit_lines is None:
        if debit_account_id is None:
            raise ValueError("a counter account is required")
        debit_lines = [(debit_account_id, total)]
    if sum(amount for _, amount in debit_lines) != total:
        raise LedgerError("批量入账借贷不平衡", code="LEDGER_UNBALANCED",
                          credits=total, debits=sum(a for _, a in debit_lines))
    if nonpositive:
        raise LedgerError("批量入账数据有误", code="LEDGER_BULK_REFUSED", rows=count,
                          nonpositive=nonpositive)
    year = domain.interest_year_of(value_date)
    _, end = domain.interest_year_bounds(year)
    # The UPDATE only touches open member accounts of the value date's interest year, and
    # touches each account once even if the source names it twice; so its row count equals
    # the source's exactly when every row is valid and distinct. This replaces a join of the
    # source with the accounts before the update, which cost as much as the update itself.
    savepoint = session.begin_nested()
    updated = _exec(
        session,
        f"UPDATE ledger_account SET balance_fen = balance_fen + s.amount_fen, "
        f"accrual_fen_days = CASE WHEN ledger_account.accrual_year IS NULL THEN 0 "
        f"ELSE accrual_fen_days + s.amount_fen * :days END "
        f"FROM {src} s WHERE ledger_account.id = s.account_id AND ledger_account.subject_code "
        f"= :subj AND ledger_account.closed_on IS NULL AND (ledger_account.accrual_year = :year "
        # Out of its interest year: a closing withdrawal awaits the bank (suspend_accrual);
        # a late remittance still lands, for staff to pay out with it.
        f"OR ledger_account.accrual_year IS NULL)",
        {**params, "days": (end - value_date).days, "subj": domain.MEMBER_DEPOSITS,
         "year": year},
    ).rowcount
    if updated != count:
        savepoint.rollback()
        raise LedgerError("批量入账数据有误：账户重复、不存在、已销户或不在当前结息年度",
                          code="LEDGER_BULK_REFUSED", rows=count, valid_accounts=updated)
    savepoint.commit()
    voucher = Voucher(
        entry_type=entry_type, posted_on=clock.today(), value_date=value_date, total_fen=total,
        line_count=count + len(debit_lines), summary=summary[:200], command_id=command_id,
    )
    session.add(voucher)
    session.flush()
    _exec(
        session, (
            f"INSERT INTO ledger_posting (voucher_id, account_id, side, amount_fen, "
            f"balance_after_fen, value_date, entry_type, period, memo) "
            f"SELECT :vid, s.account_id, 'C', s.amount_fen, a.balance_fen, :vd, :et, s.period, "
            f":memo FROM {src} s JOIN ledger_account a ON a.id = s.account_id"
        ),
        {**params, "vid": voucher.id, "vd": value_date, "et": entry_type, "memo": memo},
    )
    _move_subjects(session, {domain.MEMBER_DEPOSITS: total})
    _post_counter_lines(session, voucher, [(a, n) for a, n in debit_lines if n > 0],
                        domain.DEBIT, memo)
    return voucher


def _exec(session: Session, sql: str, params: dict[str, Any]):
    """Execute SQL text whose list-valued parameters expand into IN lists."""
    clause = text(sql)
    for name, value in params.items():
        if isinstance(value, list | tuple) and f":{name}" in sql:
            clause = clause.bindparams(bindparam(name, expanding=True))
    return session.execute(clause, params)


def _post_counter_lines(session: Session, voucher: Voucher, lines: list[tuple[int, int]],
                        side: str, memo: str | None) -> None:
    """Add the counterpart lines of a bulk voucher (one per account), all accounts locked at once.

    A month's batch credit debits up to one suspense account per employer in every chunk, so
    the accounts are locked in one statement in id order and their balances and postings are
    written in two batched statements, not one round of queries per line.
    """
    from hpf.ledger.models import Posting

    if not lines:
        return
    if len({account_id for account_id, _ in lines}) != len(lines):
        raise ValueError("one counter line per account")
    accounts = _lock_accounts(session, [account_id for account_id, _ in lines])
    normal = dict(session.execute(select(LedgerSubject.code, LedgerSubject.normal_side)).all())
    deltas: dict[str, int] = {}
    postings = []
    for account_id, amount_fen in sorted(lines):
        account = accounts[account_id]
        if account.subject_code == domain.MEMBER_DEPOSITS or account.accrual_year is not None:
            raise LedgerError("对方科目不能计息", code="LEDGER_BAD_COUNTER", account=account_id)
        if account.closed_on is not None:
            raise LedgerError("账户已销户", code="LEDGER_ACCOUNT_CLOSED", account=account_id)
        delta = amount_fen * domain.normal_sign(normal[account.subject_code], side)
        account.balance_fen += delta
        deltas[account.subject_code] = deltas.get(account.subject_code, 0) + delta
        postings.append(Posting(
            voucher_id=voucher.id, account_id=account.id, side=side, amount_fen=amount_fen,
            balance_after_fen=account.balance_fen, value_date=voucher.value_date,
            entry_type=voucher.entry_type, memo=memo,
        ))
    session.add_all(postings)
    _move_subjects(session, deltas)
    session.flush()


def settle_interest_range_segmented(
    session: Session, year: int, lo_id: int, hi_id: int, rates: list[tuple[date, int]],
    expense_account_id: int, run_marker: int, command_id: int | None = None,
) -> tuple[int, int]:
    """Settle a year whose rate changed inside it, day by day at each day's rate.

    The accrual on the account assumes one rate, so this path recomputes from the postings:
    Σ balance × days × rate = opening × W(start) + Σ delta × W(value date), where W(t) is the
    rate-weighted number of days from t to year end. One UPDATE computes the interest, one
    applies it the same way as the single-rate path, one INSERT writes the postings.
    """
    from hpf.kit.sqlfn import day_literal, day_number, greatest

    dialect = session.get_bind().dialect.name
    start, end = domain.interest_year_bounds(year)
    # Reduce rates and denominator by their common factor to keep products small.
    common = math.gcd(domain.DAY_BASIS * domain.PPM, *(int(r) for _, r in rates)) or 1
    denominator = domain.DAY_BASIS * domain.PPM // common
    rates = [(since, int(rate) // common) for since, rate in rates]
    bounds = [since for since, _ in rates] + [end]
    bind: dict[str, Any] = {"subj": domain.MEMBER_DEPOSITS, "y": year, "lo": lo_id, "hi": hi_id,
                            "start": start, "end": end, "run": run_marker}
    vd = day_number(dialect, "p.value_date")
    terms = []
    w_start = 0
    for i, (since, rate) in enumerate(rates):
        bind[f"s{i}"], bind[f"e{i}"] = since, bounds[i + 1]
        seg_start, seg_end = day_literal(dialect, f"s{i}"), day_literal(dialect, f"e{i}")
        terms.append(f"CASE WHEN {vd} < {seg_end} THEN {int(rate)} * "
                     f"({seg_end} - {greatest(dialect, vd, seg_start)}) ELSE 0 END")
        w_start += int(rate) * (bounds[i + 1] - since).days
    signed = "CASE WHEN p.side = 'C' THEN p.amount_fen ELSE -p.amount_fen END"
    # CAST: PostgreSQL sums bigints as numeric, and numeric division would not truncate.
    weighted = (f"(SELECT CAST(COALESCE(SUM(({signed}) * ({' + '.join(terms)})), 0) AS BIGINT) "
                f"FROM ledger_posting p WHERE p.account_id = ledger_account.id "
                f"AND p.value_date >= :start AND p.value_date < :end)")
    numerator = f"(year_open_balance_fen * {w_start} + {weighted})"
    session.execute(
        text(f"UPDATE ledger_account SET last_interest_fen = "
             f"{sql_round_half_up(numerator, denominator)}, interest_run_id = :run "
             f"WHERE subject_code = :subj AND accrual_year = :y AND id >= :lo AND id < :hi "
             f"AND closed_on IS NULL"), bind)
    return _apply_marked_interest(session, year, lo_id, hi_id, expense_account_id, run_marker,
                                  command_id)


def _apply_marked_interest(session: Session, year: int, lo_id: int, hi_id: int,
                           expense_account_id: int, run_marker: int,
                           command_id: int | None) -> tuple[int, int]:
    """Credit `last_interest_fen` on the rows stamped with run_marker and start the next year."""
    _, end = domain.interest_year_bounds(year)
    _, next_end = domain.interest_year_bounds(year + 1)
    session.execute(
        text("UPDATE ledger_account SET balance_fen = balance_fen + last_interest_fen, "
             "year_open_balance_fen = balance_fen + last_interest_fen, "
             "accrual_fen_days = (balance_fen + last_interest_fen) * :next_days, "
             "accrual_year = :ny WHERE interest_run_id = :run AND id >= :lo AND id < :hi "
             "AND accrual_year = :y"),
        {"next_days": (next_end - end).days, "ny": year + 1, "run": run_marker, "lo": lo_id,
         "hi": hi_id, "y": year})
    return _post_marked_interest(session, year, lo_id, hi_id, expense_account_id, run_marker,
                                 command_id)


def interest_expr(rate_ppm: int) -> str:
    """SQL for the year's interest of an account row at one rate, rounded half-up once."""
    # Reduce the fraction first: 15_000 / 360_000_000 is 1 / 24_000, which keeps the SQL
    # product far inside 64 bits for any balance the platform can hold.
    denominator = domain.DAY_BASIS * domain.PPM
    common = math.gcd(int(rate_ppm), denominator) or 1
    return sql_round_half_up(f"accrual_fen_days * {int(rate_ppm) // common}",
                             denominator // common)


def settle_interest_range(
    session: Session, year: int, lo_id: int, hi_id: int, rate_ppm: int,
    expense_account_id: int, run_marker: int, command_id: int | None = None,
) -> tuple[int, int]:
    """Settle interest year `year` for member accounts with lo_id <= id < hi_id.

    One UPDATE credits the interest, records it as `last_interest_fen`, carries the closing
    balance over (上年结转), restarts the product-sum for the next year and stamps the rows with
    `run_marker` (unique per run, e.g. the job chunk id); one INSERT writes the postings of the
    stamped rows. Accounts already moved to year+1 are untouched, so a rerun changes nothing.
    Returns (accounts credited, interest total in fen).
    """
    _, end = domain.interest_year_bounds(year)
    _, next_end = domain.interest_year_bounds(year + 1)
    next_days = (next_end - end).days
    expr = interest_expr(rate_ppm)
    negative = session.scalar(text(
        "SELECT COUNT(*) FROM ledger_account WHERE subject_code = :subj AND accrual_year = :y "
        "AND id >= :lo AND id < :hi AND accrual_fen_days < 0"),
        {"subj": domain.MEMBER_DEPOSITS, "y": year, "lo": lo_id, "hi": hi_id})
    if negative:
        raise LedgerError("存在负积数账户，请先核查", code="LEDGER_NEGATIVE_ACCRUAL")
    session.execute(
        text(
            f"UPDATE ledger_account SET last_interest_fen = {expr}, "
            f"balance_fen = balance_fen + {expr}, "
            f"year_open_balance_fen = balance_fen + {expr}, "
            f"accrual_fen_days = (balance_fen + {expr}) * :next_days, "
            f"accrual_year = :next_year, interest_run_id = :run "
            f"WHERE subject_code = :subj AND accrual_year = :y AND id >= :lo AND id < :hi "
            f"AND closed_on IS NULL"
        ),
        {"subj": domain.MEMBER_DEPOSITS, "y": year, "next_year": year + 1, "lo": lo_id,
         "hi": hi_id, "next_days": next_days, "run": run_marker},
    )
    return _post_marked_interest(session, year, lo_id, hi_id, expense_account_id, run_marker,
                                 command_id)


def _post_marked_interest(session: Session, year: int, lo_id: int, hi_id: int,
                          expense_account_id: int, run_marker: int,
                          command_id: int | None) -> tuple[int, int]:
    """One voucher crediting `last_interest_fen` to every row stamped with run_marker."""
    _, end = domain.interest_year_bounds(year)
    where = "interest_run_id = :run AND id >= :lo AND id < :hi AND last_interest_fen > 0"
    bind = {"run": run_marker, "lo": lo_id, "hi": hi_id}
    count, total = session.execute(
        text(f"SELECT COUNT(*), CAST(COALESCE(SUM(last_interest_fen), 0) AS BIGINT) FROM ledger_account "
             f"WHERE {where}"), bind).one()
    if not count:
        return 0, 0
    settle_date = end.replace(day=30, month=6)
    voucher = Voucher(
        entry_type="interest", posted_on=clock.today(), value_date=settle_date, total_fen=total,
        line_count=count + 1, summary=f"{year}-{year + 1}年度结息", command_id=command_id,
    )
    session.add(voucher)
    session.flush()
    session.execute(
        text(
            "INSERT INTO ledger_posting (voucher_id, account_id, side, amount_fen, "
            "balance_after_fen, value_date, entry_type, period, memo) "
            f"SELECT :vid, id, 'C', last_interest_fen, balance_fen, :vd, 'interest', :period, "
            f"NULL FROM ledger_account WHERE {where}"
        ),
        {**bind, "vid": voucher.id, "vd": settle_date, "period": year + 1},
    )
    _move_subjects(session, {domain.MEMBER_DEPOSITS: total})
    _post_counter_lines(session, voucher, [(expense_account_id, total)], domain.DEBIT, None)
    return count, total
