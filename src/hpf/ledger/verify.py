"""`hpf ledger verify`: prove the books are whole, with set-based checks.

Each check returns the offending rows (capped), so a failing report says where to look.
"""

from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.orm import Session

from hpf.kit.sqlfn import day_literal, day_number
from hpf.ledger import domain

LIMIT = 20


@dataclass
class Report:
    """Outcome of a verification: counts checked and problems found."""

    checked: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is off."""
        return not self.problems


def _signed(alias: str = "p", subject_alias: str = "s") -> str:
    return (f"CASE WHEN {alias}.side = {subject_alias}.normal_side THEN {alias}.amount_fen "
            f"ELSE -{alias}.amount_fen END")


def verify(session: Session) -> Report:
    """Run every ledger check and return the report."""
    report = Report()
    q = lambda sql, **kw: session.execute(text(sql), kw).all()  # noqa: E731

    report.checked["vouchers"] = session.scalar(text("SELECT COUNT(*) FROM ledger_voucher"))
    report.checked["postings"] = session.scalar(text("SELECT COUNT(*) FROM ledger_posting"))
    report.checked["accounts"] = session.scalar(text("SELECT COUNT(*) FROM ledger_account"))

    # Postings are summed per voucher first and joined after: one pass over the postings
    # whatever the planner's statistics say (a join first can read them once per voucher).
    for vid, debit, credit, total, lines, count in q(
        "SELECT v.id, COALESCE(p.d, 0), COALESCE(p.c, 0), v.total_fen, v.line_count, "
        "COALESCE(p.n, 0) FROM ledger_voucher v LEFT JOIN ("
        "  SELECT voucher_id, SUM(CASE WHEN side = 'D' THEN amount_fen ELSE 0 END) AS d, "
        "  SUM(CASE WHEN side = 'C' THEN amount_fen ELSE 0 END) AS c, COUNT(*) AS n "
        "  FROM ledger_posting GROUP BY voucher_id) p ON p.voucher_id = v.id "
        "WHERE COALESCE(p.d, 0) <> COALESCE(p.c, 0) OR COALESCE(p.d, 0) <> v.total_fen "
        "OR COALESCE(p.n, 0) <> v.line_count "
        f"LIMIT {LIMIT}"
    ):
        report.problems.append(
            f"voucher {vid}: debits {debit} credits {credit} total {total} "
            f"lines {count}/{lines}"
        )

    for aid, balance, summed in q(
        f"SELECT a.id, a.balance_fen, COALESCE(t.total, 0) FROM ledger_account a "
        f"LEFT JOIN (SELECT p.account_id, SUM({_signed()}) AS total FROM ledger_posting p "
        f"JOIN ledger_account a2 ON a2.id = p.account_id "
        f"JOIN ledger_subject s ON s.code = a2.subject_code GROUP BY p.account_id) t "
        f"ON t.account_id = a.id WHERE a.balance_fen <> COALESCE(t.total, 0) LIMIT {LIMIT}"
    ):
        report.problems.append(f"account {aid}: balance {balance} but postings sum to {summed}")

    for code, balance, summed in q(
        "SELECT s.code, s.balance_fen, COALESCE(SUM(a.balance_fen), 0) FROM ledger_subject s "
        "LEFT JOIN ledger_account a ON a.subject_code = s.code GROUP BY s.code, s.balance_fen "
        "HAVING s.balance_fen <> COALESCE(SUM(a.balance_fen), 0)"
    ):
        report.problems.append(f"subject {code}: balance {balance} but accounts sum to {summed}")

    debit_total, credit_total = session.execute(text(
        "SELECT COALESCE(SUM(CASE WHEN normal_side='D' THEN balance_fen END), 0), "
        "COALESCE(SUM(CASE WHEN normal_side='C' THEN balance_fen END), 0) FROM ledger_subject"
    )).one()
    if debit_total != credit_total:
        report.problems.append(
            f"trial balance: debit-side subjects {debit_total} != credit-side {credit_total}")

    for aid, reserved, held in q(
        "SELECT a.id, a.reserved_fen, COALESCE(h.total, 0) FROM ledger_account a LEFT JOIN "
        "(SELECT account_id, SUM(amount_fen) AS total FROM ledger_reservation "
        "WHERE status = 'held' GROUP BY account_id) h ON h.account_id = a.id "
        f"WHERE a.reserved_fen <> COALESCE(h.total, 0) LIMIT {LIMIT}"
    ):
        report.problems.append(f"account {aid}: reserved {reserved} but holds sum to {held}")

    _verify_accruals(session, report)
    return report


def _verify_accruals(session: Session, report: Report) -> None:
    """Recompute each open year's product-sum and opening balance from the postings."""
    dialect = session.get_bind().dialect.name
    years = [y for (y,) in session.execute(text(
        "SELECT DISTINCT accrual_year FROM ledger_account WHERE accrual_year IS NOT NULL"))]
    for year in years:
        start, end = domain.interest_year_bounds(year)
        vd = day_number(dialect, "p.value_date")
        rows = session.execute(text(
            f"SELECT a.id, a.accrual_fen_days, a.balance_fen, "
            f"a.balance_fen - COALESCE(m.moved, 0) AS opening, COALESCE(m.weighted, 0) "
            f"FROM ledger_account a LEFT JOIN ("
            f"  SELECT p.account_id, SUM({_signed()}) AS moved, "
            f"  SUM(({_signed()}) * ({day_literal(dialect, 'end')} - {vd})) AS weighted "
            f"  FROM ledger_posting p JOIN ledger_account a3 ON a3.id = p.account_id "
            f"  JOIN ledger_subject s ON s.code = a3.subject_code "
            f"  WHERE a3.accrual_year = :year AND p.value_date >= :start "
            f"  GROUP BY p.account_id) m ON m.account_id = a.id "
            f"WHERE a.accrual_year = :year AND a.closed_on IS NULL AND a.accrual_fen_days <> "
            f"(a.balance_fen - COALESCE(m.moved, 0)) * :days + COALESCE(m.weighted, 0) "
            f"LIMIT {LIMIT}"
        ), {"year": year, "start": start, "end": end, "days": (end - start).days}).all()
        report.checked[f"accruals {year}"] = 1
        for aid, accrual, _balance, opening, weighted in rows:
            report.problems.append(
                f"account {aid}: product-sum {accrual} for {year} but postings give "
                f"{opening * (end - start).days + weighted}")
