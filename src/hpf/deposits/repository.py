"""Deposit queries. Everything that reads or bulk-writes deposit tables lives here."""

from sqlalchemy import BigInteger, bindparam, cast, func, select, text
from sqlalchemy.orm import Session

from hpf.deposits.models import (
    M_NORMAL,
    Employer,
    Member,
    Receipt,
    RemitLine,
    RemitList,
)
from hpf.kit.errors import NotFound
from hpf.kit.money import ROUNDING_UNITS_FEN, sql_round_half_up
from hpf.kit.sealed import id_number_index


def employer_by_no(session: Session, unit_no: str, *, lock: bool = False) -> Employer:
    """The employer with a unit number, or NOT_FOUND."""
    stmt = select(Employer).where(Employer.unit_no == unit_no)
    if lock:
        stmt = stmt.with_for_update()
    employer = session.scalars(stmt).first()
    if employer is None:
        raise NotFound("单位账户不存在", code="EMPLOYER_NOT_FOUND", unit_no=unit_no)
    return employer


def employer_by_id(session: Session, employer_id: int, *, lock: bool = False) -> Employer:
    """The employer with an id, or NOT_FOUND."""
    employer = session.get(Employer, employer_id, with_for_update=lock)
    if employer is None:
        raise NotFound("单位账户不存在", code="EMPLOYER_NOT_FOUND")
    return employer


def employer_by_uscc(session: Session, uscc: str) -> Employer | None:
    """The employer registered with a credit code, if any."""
    return session.scalars(select(Employer).where(Employer.uscc == uscc)).first()


def virtual_employer(session: Session, kind: str) -> Employer | None:
    """The centre's virtual employer for flexible depositors or custody accounts."""
    return session.scalars(select(Employer).where(Employer.kind == kind).limit(1)).first()


def member_by_no(session: Session, member_no: str, *, lock: bool = False) -> Member:
    """The member with a personal account number, or NOT_FOUND."""
    stmt = select(Member).where(Member.member_no == member_no)
    if lock:
        stmt = stmt.with_for_update()
    member = session.scalars(stmt).first()
    if member is None:
        raise NotFound("个人账户不存在", code="MEMBER_NOT_FOUND", member_no=member_no)
    return member


def member_by_id(session: Session, member_id: int, *, lock: bool = False) -> Member:
    """The member with an id, or NOT_FOUND."""
    member = session.get(Member, member_id, with_for_update=lock)
    if member is None:
        raise NotFound("个人账户不存在", code="MEMBER_NOT_FOUND")
    return member


def members_by_nos(session: Session, member_nos: list[str], chunk: int = 1000) -> dict[str, Member]:
    """Members keyed by personal account number, fetched a thousand at a time."""
    found: dict[str, Member] = {}
    unique = list(dict.fromkeys(member_nos))
    for i in range(0, len(unique), chunk):
        for member in session.scalars(select(Member).where(
                Member.member_no.in_(unique[i:i + chunk]))):
            found[member.member_no] = member
    return found


def member_by_id_number(session: Session, id_number: str) -> Member | None:
    """The member holding an ID number, if any (found by its blind index)."""
    return session.scalars(
        select(Member).where(Member.id_number_bidx == id_number_index(id_number))).first()


def count_members(session: Session, employer_id: int, status: str | None = None) -> int:
    """Members of an employer, optionally of one status."""
    stmt = select(func.count()).select_from(Member).where(Member.employer_id == employer_id)
    if status:
        stmt = stmt.where(Member.status == status)
    return session.scalar(stmt) or 0


def list_for_period(session: Session, employer_id: int, kind: str, period: int) -> RemitList | None:
    """The live (not cancelled) list of a kind for an employer and month."""
    return session.scalars(
        select(RemitList).where(
            RemitList.employer_id == employer_id, RemitList.kind == kind,
            RemitList.period == period, RemitList.status != "cancelled",
        ).order_by(RemitList.seq.desc()).limit(1)
    ).first()


def next_seq(session: Session, employer_id: int, kind: str, period: int) -> int:
    """The next sequence number of lists for (employer, kind, period)."""
    current = session.scalar(
        select(func.max(RemitList.seq)).where(
            RemitList.employer_id == employer_id, RemitList.kind == kind,
            RemitList.period == period)
    )
    return (current or 0) + 1


def fill_remit_lines(session: Session, remit_list: RemitList, rounding_unit: str) -> None:
    """Insert the lines of one monthly list from every active member, set-based."""
    fill_lines_for_lists(session, [remit_list.id], rounding_unit)
    refresh_list_totals(session, remit_list)


def _line_parts(rounding_unit: str) -> tuple[str, str]:
    """SQL for the unit and member parts of a member row `m`, each rounded half-up.

    round_half_up(base × ratio) to the rounding unit: the same rule as
    hpf.kit.money.percent_of, rendered in SQL by hpf.kit.money.sql_round_half_up.
    """
    unit = ROUNDING_UNITS_FEN[rounding_unit]
    return (f"{sql_round_half_up('m.base_fen * m.unit_ratio_bps', 10_000 * unit)} * {unit}",
            f"{sql_round_half_up('m.base_fen * m.member_ratio_bps', 10_000 * unit)} * {unit}")


LINE_COLUMNS = ("period, member_id, list_id, account_id, base_fen, unit_ratio_bps, "
                "member_ratio_bps, unit_fen, member_fen, amount_fen")


def fill_lines_for_lists(session: Session, list_ids: list[int], rounding_unit: str) -> None:
    """Insert the lines of some monthly lists in one statement, from each employer's members."""
    unit_part, member_part = _line_parts(rounding_unit)
    session.execute(
        text(
            f"INSERT INTO dep_remit_line ({LINE_COLUMNS}) "
            f"SELECT l.period, m.id, l.id, m.account_id, m.base_fen, m.unit_ratio_bps, "
            f"m.member_ratio_bps, {unit_part}, {member_part}, ({unit_part}) + ({member_part}) "
            "FROM dep_remit_list l JOIN dep_member m ON m.employer_id = l.employer_id "
            "WHERE l.id IN :ids AND m.status = :normal AND m.first_month <= l.period "
            "AND m.base_fen > 0"
        ).bindparams(bindparam("ids", expanding=True)),
        {"ids": list_ids, "normal": M_NORMAL},
    )


def fill_lines_for_member_range(session: Session, period: int, status: str, lo: int, hi: int,
                                rounding_unit: str) -> None:
    """Insert, for members lo <= id < hi, their line on their employer's list in `status`,
    and the range's control totals per list (dep_remit_range_total).

    The batch fills all the month's lists this way, one member range at a time: members are
    read in id order and the lines land in key order at the end of the table, where a
    list-by-list fill would read each employer's members from all over the table. CROSS JOIN
    makes SQLite keep the members as the outer loop (PostgreSQL plans it as a plain join).
    PostgreSQL sums the lines as it writes them (a data-modifying WITH); SQLite, which has no
    such thing, reads the range back while its pages are still in the cache.
    """
    unit_part, member_part = _line_parts(rounding_unit)
    bind = {"lo": lo, "hi": hi, "p": period, "status": status, "normal": M_NORMAL}
    insert_lines = (
        f"INSERT INTO dep_remit_line ({LINE_COLUMNS}) "
        f"SELECT l.period, m.id, l.id, m.account_id, m.base_fen, m.unit_ratio_bps, "
        f"m.member_ratio_bps, {unit_part}, {member_part}, ({unit_part}) + ({member_part}) "
        "FROM dep_member m CROSS JOIN dep_remit_list l "
        "WHERE m.id >= :lo AND m.id < :hi AND m.status = :normal AND m.base_fen > 0 "
        "AND m.first_month <= :p AND l.employer_id = m.employer_id AND l.kind = 'remit' "
        "AND l.period = :p AND l.status = :status")
    insert_totals = (
        "INSERT INTO dep_remit_range_total (period, range_lo, list_id, line_count, unit_fen, "
        "member_fen, amount_fen) "
        "SELECT :p, :lo, w.list_id, COUNT(*), CAST(SUM(w.unit_fen) AS BIGINT), "
        "CAST(SUM(w.member_fen) AS BIGINT), CAST(SUM(w.amount_fen) AS BIGINT) ")
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(
            f"WITH written AS ({insert_lines} RETURNING list_id, unit_fen, member_fen, amount_fen) "
            f"{insert_totals} FROM written w GROUP BY w.list_id"), bind)
        return
    session.execute(text(insert_lines), bind)
    session.execute(text(
        f"{insert_totals} FROM dep_remit_line w CROSS JOIN dep_remit_list r "
        "WHERE w.period = :p AND w.member_id >= :lo AND w.member_id < :hi AND r.id = w.list_id "
        "AND r.kind = 'remit' AND r.status = :status GROUP BY w.list_id"), bind)


def totals_from_range_totals(session: Session, period: int, list_ids: list[int]) -> None:
    """Set the lists' counts and totals to the sums of their ranges' control totals."""
    session.execute(
        text(
            "UPDATE dep_remit_list SET member_count = t.n, unit_total_fen = t.u, "
            "member_total_fen = t.m, total_fen = t.s "
            "FROM (SELECT list_id, CAST(SUM(line_count) AS BIGINT) AS n, "
            "  CAST(SUM(unit_fen) AS BIGINT) AS u, CAST(SUM(member_fen) AS BIGINT) AS m, "
            "  CAST(SUM(amount_fen) AS BIGINT) AS s FROM dep_remit_range_total "
            "  WHERE period = :p AND list_id IN :ids GROUP BY list_id) t "
            "WHERE dep_remit_list.id = t.list_id"
        ).bindparams(bindparam("ids", expanding=True)),
        {"p": period, "ids": list_ids},
    )
    # A list without a single line keeps the zeros it was created with.


def member_range_credit_source() -> str:
    """SELECT of (account_id, amount_fen, period) of a month's lines in `:list_status` lists
    for members :lo <= id < :hi, in key order, for ledger.bulk_credit."""
    return ("SELECT l.account_id, l.amount_fen, l.period FROM dep_remit_line l "
            "CROSS JOIN dep_remit_list r WHERE l.period = :p AND l.member_id >= :lo "
            "AND l.member_id < :hi AND r.id = l.list_id AND r.kind = 'remit' "
            "AND r.status = :list_status AND l.amount_fen > 0")


def range_totals_by_suspense(session: Session, period: int, list_status: str,
                             lo: int) -> list[tuple[int, int]]:
    """(employer suspense account, Σ amount) of a member range's lines in `list_status` lists,
    from the control totals."""
    return [(account_id, amount) for account_id, amount in session.execute(text(
        "SELECT e.suspense_account_id, CAST(SUM(t.amount_fen) AS BIGINT) "
        "FROM dep_remit_range_total t JOIN dep_remit_list r ON r.id = t.list_id "
        "JOIN dep_employer e ON e.id = r.employer_id WHERE t.period = :p AND t.range_lo = :lo "
        "AND r.kind = 'remit' AND r.status = :list_status AND t.amount_fen > 0 "
        "GROUP BY e.suspense_account_id ORDER BY e.suspense_account_id"),
        {"p": period, "lo": lo, "list_status": list_status})]


def monthly_total_fen(session: Session, employer_id: int, rounding_unit: str) -> int:
    """Σ of both parts over the employer's active members, each part rounded as on a list."""
    unit = ROUNDING_UNITS_FEN[rounding_unit]
    unit_part = f"{sql_round_half_up('base_fen * unit_ratio_bps', 10_000 * unit)} * {unit}"
    member_part = f"{sql_round_half_up('base_fen * member_ratio_bps', 10_000 * unit)} * {unit}"
    return session.scalar(text(
        f"SELECT CAST(COALESCE(SUM(({unit_part}) + ({member_part})), 0) AS BIGINT) "
        f"FROM dep_member WHERE employer_id = :eid AND status = :normal"),
        {"eid": employer_id, "normal": M_NORMAL}) or 0


def refresh_list_totals(session: Session, remit_list: RemitList) -> None:
    """Recompute the list's counts and totals from its lines."""
    count, unit_total, member_total = session.execute(
        select(func.count(), cast(func.coalesce(func.sum(RemitLine.unit_fen), 0), BigInteger),
               cast(func.coalesce(func.sum(RemitLine.member_fen), 0), BigInteger))
        .where(RemitLine.list_id == remit_list.id)
    ).one()
    remit_list.member_count = count
    remit_list.unit_total_fen = unit_total
    remit_list.member_total_fen = member_total
    remit_list.total_fen = unit_total + member_total


def list_by_reference(session: Session, reference: str, *, lock: bool = False) -> RemitList | None:
    """The list a payment reference (缴款识别码) points to."""
    stmt = select(RemitList).where(RemitList.reference == reference)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def receipt_by_txn(session: Session, bank_txn_id: str) -> Receipt | None:
    """A receipt already booked for a bank transaction id."""
    return session.scalars(select(Receipt).where(Receipt.bank_txn_id == bank_txn_id)).first()


def list_credit_source() -> str:
    """SELECT of (account_id, amount_fen, period) for one list, for ledger.bulk_credit."""
    return ("SELECT account_id, amount_fen, period FROM dep_remit_line "
            "WHERE list_id = :list_id AND amount_fen > 0")


def supplement_credit_source() -> str:
    """Supplement lines summed per account (one member may cover several months)."""
    return ("SELECT account_id, CAST(SUM(amount_fen) AS BIGINT) AS amount_fen, MIN(period) AS period "
            "FROM dep_remit_line WHERE list_id = :list_id GROUP BY account_id "
            "HAVING SUM(amount_fen) > 0")
