"""The timed parts: each job and its baseline, run on a copy of the benchmark city.

Every function here runs in a fresh child process (bench.worker), so the peak resident memory
it reports belongs to that job alone, the way `hpf jobs run` would use it. Both sides warm the
same tables first and time their commits; the ledger check after a job is not timed.

Baselines are the plain set-based SQL a database person would write for the same money
movement: one UPDATE of the member balances and one INSERT ... SELECT of the journal rows (and
one voucher row so the postings' foreign key holds). They keep no lists, receipts, suspense,
product-sums, subject balances or job records; those are what the job does beyond them.
"""

import resource
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from hpf.deposits import remittance
from hpf.deposits.jobs import run_interest_settlement, settlement_year, year_rates
from hpf.deposits.models import Employer
from hpf.kit import clock, db
from hpf.kit.money import ROUNDING_UNITS_FEN, sql_round_half_up
from hpf.ledger import domain as ledger_domain
from hpf.ledger.bulk import interest_expr
from hpf.ledger.verify import verify

REMIT_DAY = date(2026, 5, 15)
REMIT_PERIOD = 202605
SETTLE_DAY = date(2026, 6, 30)


def peak_rss_mb() -> float:
    """Peak resident set size of this process image so far, in MiB.

    VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over fork and exec, so a child
    would report its parent's peak (the data build) instead of its own.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def written_bytes(url: str) -> int:
    """Bytes written so far by the database engine on our behalf.

    SQLite writes from this process (WAL frames and checkpoints): /proc/self/io wchar.
    PostgreSQL writes in its server: the cluster's WAL position (WAL bytes generated).
    """
    engine = db.make_engine(url)
    if engine.dialect.name == "sqlite":
        try:
            for line in Path("/proc/self/io").read_text().splitlines():
                if line.startswith("wchar:"):
                    return int(line.split()[1])
        except OSError:
            return 0
        return 0
    with engine.connect() as conn:
        value = conn.exec_driver_sql(
            "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')").scalar()
        conn.rollback()
    return int(value or 0)


def warm(url: str) -> None:
    """Read the tables both sides touch, so neither pays for a cold cache the other does not."""
    with db.make_engine(url).connect() as conn:
        for sql in ("SELECT COUNT(*), SUM(balance_fen), SUM(accrual_fen_days) FROM ledger_account",
                    "SELECT COUNT(*), SUM(base_fen), SUM(account_id) FROM dep_member",
                    "SELECT COUNT(*), SUM(amount_fen) FROM ledger_posting"):
            conn.exec_driver_sql(sql).all()
        conn.rollback()


def member_totals(url: str) -> dict[str, int]:
    """Member-balance checksum and journal size, to compare a job with its baseline."""
    with db.make_engine(url).connect() as conn:
        count, total = conn.execute(text(
            "SELECT COUNT(*), CAST(SUM(balance_fen) AS BIGINT) FROM ledger_account "
            "WHERE subject_code = :s"), {"s": ledger_domain.MEMBER_DEPOSITS}).one()
        postings = conn.execute(text(
            "SELECT COUNT(*) FROM ledger_posting p JOIN ledger_account a ON a.id = p.account_id "
            "WHERE a.subject_code = :s"), {"s": ledger_domain.MEMBER_DEPOSITS}).scalar_one()
        conn.rollback()
    return {"member_accounts": count, "member_balance_fen": int(total or 0),
            "member_postings": postings}


def check_books(url: str) -> dict[str, Any]:
    """hpf.ledger.verify.verify on the database (untimed)."""
    started = time.perf_counter()
    with db.session_factory(url)() as session:
        report = verify(session)
        session.rollback()
    return {"verify_ok": report.ok, "verify_problems": report.problems[:5],
            "verify_s": round(time.perf_counter() - started, 2)}


def _baseline_voucher(conn, entry_type: str, value_date: date) -> int:
    # Postings need a voucher row (foreign key); its totals are not kept by the baseline.
    return conn.execute(text(
        "INSERT INTO ledger_voucher (entry_type, posted_on, value_date, total_fen, line_count, "
        "summary) VALUES (:et, :d, :d, 1, 1, 'baseline') RETURNING id"),
        {"et": entry_type, "d": value_date}).scalar_one()


# --- Remittance (汇缴) ---------------------------------------------------------------------------

def _remit_amount_sql(rounding_unit: str = "yuan") -> str:
    """A member's monthly amount from dep_member m: the same rounding as fill_remit_lines."""
    unit = ROUNDING_UNITS_FEN[rounding_unit]
    part = lambda ratio: (  # noqa: E731
        f"{sql_round_half_up(f'm.base_fen * m.{ratio}', 10_000 * unit)} * {unit}")
    return f"({part('unit_ratio_bps')} + {part('member_ratio_bps')})"


REMIT_WHERE = "m.status = '01' AND m.first_month <= :period AND m.base_fen > 0"


def remittance_baseline(url: str) -> dict[str, Any]:
    """One UPDATE crediting every member's monthly amount, one INSERT of the postings."""
    engine = db.make_engine(url)
    warm(url)
    amount = _remit_amount_sql()
    bind = {"period": REMIT_PERIOD}
    with engine.begin() as conn:
        vid = _baseline_voucher(conn, "remit", REMIT_DAY)
    rss_before = peak_rss_mb()
    written = written_bytes(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        t0 = time.perf_counter()
        updated = conn.execute(text(
            f"UPDATE ledger_account SET balance_fen = balance_fen + {amount} "
            f"FROM dep_member m WHERE m.account_id = ledger_account.id AND {REMIT_WHERE}"),
            bind).rowcount
        t1 = time.perf_counter()
        inserted = conn.execute(text(
            "INSERT INTO ledger_posting (voucher_id, account_id, side, amount_fen, "
            "balance_after_fen, value_date, entry_type, period, memo) "
            f"SELECT :vid, m.account_id, 'C', {amount}, a.balance_fen, :vd, 'remit', :period, "
            f"'汇缴{REMIT_PERIOD}' FROM dep_member m JOIN ledger_account a ON a.id = m.account_id "
            f"WHERE {REMIT_WHERE}"), {**bind, "vid": vid, "vd": REMIT_DAY}).rowcount
        t2 = time.perf_counter()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_rss_mb": peak_rss_mb(), "rss_before_mb": rss_before,
            "written_mb": (written_bytes(url) - written) / 2**20,
            "phases": {"update": t1 - t0, "insert": t2 - t1, "commit": seconds - (t2 - t0)},
            "rows": {"updated": updated, "inserted": inserted}, **member_totals(url)}


def remittance_job(url: str, *, verify_books: bool = True) -> dict[str, Any]:
    """Every employer's month through the real path: list, confirm, bank receipt → credit.

    One transaction per employer, as when each employer's list is paid and matched on its own.
    """
    factory = db.session_factory(url)
    with factory() as session:
        employer_ids = list(session.scalars(
            select(Employer.id).where(Employer.kind == "ordinary").order_by(Employer.id)))
    warm(url)
    phases = {"generate_confirm": 0.0, "receipt_match_credit": 0.0}
    rss_before = peak_rss_mb()
    written = written_bytes(url)
    started = time.perf_counter()
    with clock.frozen(REMIT_DAY):
        for eid in employer_ids:
            with factory() as session, session.begin():
                employer = session.get(Employer, eid)
                t0 = time.perf_counter()
                remit_list = remittance.generate_list(session, employer, REMIT_PERIOD)
                remittance.confirm_list(session, employer, REMIT_PERIOD)
                t1 = time.perf_counter()
                remittance.record_receipt(
                    session, bank_code=employer.bank_code,
                    bank_txn_id=f"BENCH{remit_list.id:010d}", amount_fen=remit_list.total_fen,
                    payer_name=employer.name, payer_account=None,
                    reference=remit_list.reference, arrived_on=REMIT_DAY)
                t2 = time.perf_counter()
                phases["generate_confirm"] += t1 - t0
                phases["receipt_match_credit"] += t2 - t1
    seconds = time.perf_counter() - started
    phases["commit_and_other"] = seconds - sum(phases.values())
    result = {"seconds": seconds, "peak_rss_mb": peak_rss_mb(), "rss_before_mb": rss_before,
              "written_mb": (written_bytes(url) - written) / 2**20,
              "phases": phases, "employers": len(employer_ids)}
    with db.make_engine(url).connect() as conn:
        result["lists_credited"] = conn.execute(text(
            "SELECT COUNT(*) FROM dep_remit_list WHERE status = 'credited' AND period = :p"),
            {"p": REMIT_PERIOD}).scalar_one()
        conn.rollback()
    result.update(member_totals(url))
    if verify_books:
        result.update(check_books(url))
    return result


def remit_debit_job(url: str, *, chunk_size: int | None = None,
                    verify_books: bool = True) -> dict[str, Any]:
    """The month as the batch job `hpf jobs run remit-debit` runs it (hpf.deposits.batch).

    Every employer has signed a debit agreement (set here, untimed). The job writes the lists,
    then the lines by member range, debits the employers through the bank adapter in groups,
    and credits the members by member range (the six steps of hpf.deposits.batch).
    """
    from hpf.deposits.batch import run_monthly_debit

    factory = db.session_factory(url)
    with db.make_engine(url).begin() as conn:
        conn.execute(text("UPDATE dep_employer SET debit_account_no = :no WHERE kind = 'ordinary'"),
                     {"no": "6222020000000001"})
    warm(url)
    kwargs = {"chunk_employers": chunk_size} if chunk_size else {}
    rss_before = peak_rss_mb()
    written = written_bytes(url)
    started = time.perf_counter()
    with clock.frozen(REMIT_DAY):
        outcome = run_monthly_debit(factory, REMIT_PERIOD, **kwargs)
    seconds = time.perf_counter() - started
    result = {"seconds": seconds, "peak_rss_mb": peak_rss_mb(), "rss_before_mb": rss_before,
              "written_mb": (written_bytes(url) - written) / 2**20, "job": outcome.as_dict()}
    result.update(member_totals(url))
    if verify_books:
        result.update(check_books(url))
    return result


def remit_debit_available() -> bool:
    """True when this checkout has the batch debit job."""
    try:
        from hpf.deposits.batch import run_monthly_debit  # noqa: F401
    except ImportError:
        return False
    return True


# --- Interest settlement (年度结息) ------------------------------------------------------------

def interest_baseline(url: str) -> dict[str, Any]:
    """One UPDATE adding the year's interest to every balance, one INSERT of the postings."""
    engine = db.make_engine(url)
    year = settlement_year(SETTLE_DAY)
    with db.session_factory(url)() as session:
        # The bench's year has one rate, so one UPDATE at that rate is the baseline.
        ((_, rate),) = year_rates(session, year)
    expr = interest_expr(rate)  # the job's own rounding of the product-sum
    warm(url)
    where = ("subject_code = :subj AND accrual_year = :y AND closed_on IS NULL")
    bind = {"subj": ledger_domain.MEMBER_DEPOSITS, "y": year}
    with engine.begin() as conn:
        vid = _baseline_voucher(conn, "interest", SETTLE_DAY)
    rss_before = peak_rss_mb()
    written = written_bytes(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        t0 = time.perf_counter()
        updated = conn.execute(text(
            f"UPDATE ledger_account SET balance_fen = balance_fen + {expr} WHERE {where}"),
            bind).rowcount
        t1 = time.perf_counter()
        # accrual_fen_days is untouched by the UPDATE above, so the interest is recomputed.
        inserted = conn.execute(text(
            "INSERT INTO ledger_posting (voucher_id, account_id, side, amount_fen, "
            "balance_after_fen, value_date, entry_type, period, memo) "
            f"SELECT :vid, id, 'C', {expr}, balance_fen, :vd, 'interest', :period, NULL "
            f"FROM ledger_account WHERE {where} AND {expr} > 0"),
            {**bind, "vid": vid, "vd": SETTLE_DAY, "period": year + 1}).rowcount
        t2 = time.perf_counter()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_rss_mb": peak_rss_mb(), "rss_before_mb": rss_before,
            "written_mb": (written_bytes(url) - written) / 2**20,
            "phases": {"update": t1 - t0, "insert": t2 - t1, "commit": seconds - (t2 - t0)},
            "rows": {"updated": updated, "inserted": inserted}, **member_totals(url)}


def interest_job(url: str, *, chunk_size: int | None = None,
                 verify_books: bool = True) -> dict[str, Any]:
    """hpf.deposits.jobs.run_interest_settlement on 30 June, as `hpf jobs run` does."""
    factory = db.session_factory(url)
    warm(url)
    rss_before = peak_rss_mb()
    written = written_bytes(url)
    started = time.perf_counter()
    with clock.frozen(SETTLE_DAY):
        outcome = run_interest_settlement(factory, SETTLE_DAY, chunk_size=chunk_size)
    seconds = time.perf_counter() - started
    result = {"seconds": seconds, "peak_rss_mb": peak_rss_mb(), "rss_before_mb": rss_before,
              "written_mb": (written_bytes(url) - written) / 2**20, "job": outcome.as_dict()}
    result.update(member_totals(url))
    if verify_books:
        result.update(check_books(url))
    return result


MEASUREMENTS = {
    ("remittance", "baseline"): remittance_baseline,
    ("remittance", "job"): remittance_job,
    ("remit-debit", "baseline"): remittance_baseline,
    ("remit-debit", "job"): remit_debit_job,
    ("interest", "baseline"): interest_baseline,
    ("interest", "job"): interest_job,
}
