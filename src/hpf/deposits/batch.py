"""Monthly remittance by direct debit for every signed employer (批量自动代扣汇缴), set-based.

For a month, each employer that signed a debit agreement and is due for that month gets its
list generated and confirmed, its account debited through the bank adapter, the money booked
into its suspense account, and the list credited to its members. Employers already working on
the month online (a list exists) are left to finish it themselves.

The job runs in six steps, each a resumable chunk (hpf.jobs.runner):

1. `lists`: one list per due employer, status `generating`;
2. `lines`: per range of member ids, every active member's line on its employer's list and
   the range's control totals per list (dep_remit_range_total);
3. `debit`: per group of employers, list totals (from the control totals), the bank debit,
   one receipt voucher (bank → suspense) and the receipts; a debited list becomes
   `debited`, a refused one stays `confirmed` for the employer to pay by transfer, an empty
   one is closed (零申报);
4. `analyze`: fresh PostgreSQL planner statistics for the lines and lists (the lists step
   refreshes those of the lists too);
5. `credit`: per range of member ids, one voucher crediting the members of `debited` lists
   and debiting each employer's suspense account by the part of its list in the range;
6. `close`: the lists become `credited` and the employers paid through the month.

Lines are written and credited in member order, not employer by employer: an employer's
members are spread over the whole table, and visiting them list by list costs random reads
and rewrites of most pages of the accounts and their indexes in every chunk
(docs/performance.md). Between steps the books balance: money is either still at the bank,
in an employer's suspense account, or in the members' accounts.
"""

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from hpf.catalog import params
from hpf.deposits import domain, repository
from hpf.deposits.models import U_CLOSED, Employer, Member, Receipt, RemitList
from hpf.deposits.remittance import _reference, _value_date
from hpf.exchange.bank import DebitRefused, bank_adapter
from hpf.jobs.runner import JobResult, run_job
from hpf.kit import clock
from hpf.kit.errors import UpstreamUnavailable
from hpf.ledger import bulk
from hpf.ledger import domain as ledger_domain
from hpf.ledger import service as ledger

CHUNK_EMPLOYERS = 200


CHUNK_MEMBERS = 100_000
GENERATING, DEBITED = "generating", "debited"
NO_UPPER_BOUND = 2**62
IN_LIST_SLICE = 1000


def run_monthly_debit(factory: sessionmaker[Session], period: int, *,
                      chunk_employers: int = CHUNK_EMPLOYERS,
                      chunk_members: int = CHUNK_MEMBERS,
                      show_progress: bool = False) -> JobResult:
    """Run (or resume) the month's batch debit; the job key is the month.

    The summary counts the member lines credited and the amount credited to members.
    """
    domain.check_period(period, clock.month_key(clock.today()))

    def plan(session: Session) -> list:
        employers = list(session.scalars(
            select(Employer.id).where(Employer.status != U_CLOSED, Employer.kind == "ordinary",
                                      Employer.debit_account_no.is_not(None))
            .order_by(Employer.id)))
        if not employers:
            return []
        lo, hi = session.execute(select(func.min(Member.id), func.max(Member.id))).one()
        # The last range is open: members who join while the job runs are listed as well.
        bounds = ([[start, start + chunk_members]
                   for start in range(lo, hi + 1, chunk_members)] if lo is not None else [])
        if bounds:
            bounds[-1][1] = None
        groups = [employers[i:i + chunk_employers]
                  for i in range(0, len(employers), chunk_employers)]
        return ([["lists", employers]] + [["lines", a, b] for a, b in bounds]
                + [["debit", group] for group in groups] + [["analyze"]]
                + [["credit", a, b] for a, b in bounds] + [["close"]])

    def chunk(session: Session, spec: list, _marker: int) -> tuple[int, int]:
        step = spec[0]
        if step == "lists":
            return _create_lists(session, spec[1], period)
        if step == "lines":
            return _fill_lines(session, period, spec[1], spec[2])
        if step == "debit":
            return _debit_employers(session, spec[1], period)
        if step == "analyze":
            return _analyze(session, "dep_remit_line", "dep_remit_list")
        if step == "credit":
            return _credit_members(session, period, spec[1], spec[2])
        return _close(session, period)

    return run_job(factory, "remit-debit", str(period), plan, chunk, show_progress=show_progress)


def _create_lists(session: Session, employer_ids: list[int], period: int) -> tuple[int, int]:
    """Step 1: a `generating` list for every employer due this month."""
    # Slices keep each IN list far below the engines' bound-parameter limits (SQLite 32,766;
    # PostgreSQL 65,535): a city of a million members has tens of thousands of employers.
    employers = [e for i in range(0, len(employer_ids), IN_LIST_SLICE)
                 for e in session.scalars(
                     select(Employer).where(Employer.id.in_(employer_ids[i:i + IN_LIST_SLICE]))
                     .order_by(Employer.id).with_for_update())
                 if _due(session, e, period)]
    if employers:
        session.execute(insert(RemitList), [
            {"employer_id": e.id, "kind": "remit", "period": period, "seq": 1,
             "status": GENERATING, "reference": _reference("remit"), "member_count": 0,
             "unit_total_fen": 0, "member_total_fen": 0, "total_fen": 0} for e in employers])
        _analyze(session, "dep_remit_list")
    return 0, 0


def _fill_lines(session: Session, period: int, lo: int, hi: int | None) -> tuple[int, int]:
    """Step 2: the lines of members lo <= id < hi on their employers' generating lists."""
    repository.fill_lines_for_member_range(
        session, period, GENERATING, lo, NO_UPPER_BOUND if hi is None else hi,
        params.get(session, "deposit.rounding_unit"))
    return 0, 0


def _debit_employers(session: Session, employer_ids: list[int], period: int) -> tuple[int, int]:
    """Step 3: totals, the bank debit and the receipt voucher for a group of employers."""
    today = clock.today()
    lists = {rl.employer_id: rl for rl in session.scalars(
        select(RemitList).where(RemitList.employer_id.in_(employer_ids), RemitList.kind == "remit",
                                RemitList.period == period, RemitList.status == GENERATING)
        .with_for_update())}
    if not lists:
        return 0, 0
    list_ids = [rl.id for rl in lists.values()]
    repository.totals_from_range_totals(session, period, list_ids)
    session.execute(update(RemitList).where(RemitList.id.in_(list_ids))
                    .values(status="confirmed", confirmed_at=clock.now()))
    totals = dict(session.execute(
        select(RemitList.employer_id, RemitList.total_fen).where(RemitList.id.in_(list_ids))).all())
    employers = list(session.scalars(
        select(Employer).where(Employer.id.in_(list(lists))).order_by(Employer.id)
        .with_for_update()))

    paid: list[tuple[Employer, int, str]] = []
    empty: list[int] = []
    adapter = bank_adapter(session)
    for employer in employers:
        amount, reference = totals[employer.id], lists[employer.id].reference
        if amount == 0:
            empty.append(employer.id)
            continue
        try:
            result = adapter.debit(employer.bank_code, employer.debit_account_no, employer.name,
                                   amount, reference)
        except (DebitRefused, UpstreamUnavailable):
            continue  # the list stays confirmed; the employer pays by transfer
        paid.append((employer, result.amount_fen, result.bank_txn_id))

    if empty:
        # A month with no active member owes nothing (零申报): close the empty lists.
        session.execute(update(RemitList).where(RemitList.id.in_(
            [lists[e].id for e in empty])).values(status="credited", credited_on=today))
        session.execute(update(Employer).where(Employer.id.in_(empty)).values(paid_through=period))
    if not paid:
        return 0, 0
    total = sum(amount for _, amount, _ in paid)
    bank = ledger.system_account(session, ledger_domain.BANK_SETTLEMENT, "bank", None,
                                 "委托银行结算户")
    receipt_voucher = ledger.post(
        session, "receipt",
        [ledger_domain.Line(bank.id, ledger_domain.DEBIT, total),
         *[ledger_domain.Line(e.suspense_account_id, ledger_domain.CREDIT, amount,
                              memo=lists[e.id].reference) for e, amount, _ in paid]],
        summary=f"批量代扣汇缴{period} {len(paid)}户", value_date=_value_date(today))
    session.execute(insert(Receipt), [
        {"bank_code": e.bank_code, "bank_txn_id": txn, "amount_fen": amount,
         "payer_name": e.name[:100], "payer_account": e.debit_account_no,
         "reference": lists[e.id].reference, "arrived_on": today, "employer_id": e.id,
         "status": "matched", "suspense_account_id": e.suspense_account_id,
         "receipt_voucher_id": receipt_voucher.id, "matched_list_id": lists[e.id].id}
        for e, amount, txn in paid])
    session.execute(text(
        "UPDATE dep_remit_list SET status = :debited, receipt_id = (SELECT r.id FROM dep_receipt r "
        "  WHERE r.matched_list_id = dep_remit_list.id) WHERE id IN :ids"
    ).bindparams(bindparam("ids", expanding=True)),
        {"debited": DEBITED, "ids": [lists[e.id].id for e, _, _ in paid]})
    return 0, 0


def _analyze(session: Session, *tables: str) -> tuple[int, int]:
    """Fresh planner statistics on PostgreSQL for tables the job has just changed in bulk.

    The month's lists and million lines are minutes old, so autovacuum has not seen them;
    with the old statistics PostgreSQL believes the lists or lines are few and picks plans
    that read all of them once per member (the lines step) or per range (the credit step).
    SQLite's planner uses no statistics here (the platform never runs ANALYZE on SQLite).
    """
    if session.get_bind().dialect.name == "postgresql":
        for table in tables:
            session.execute(text(f"ANALYZE {table}"))
    return 0, 0


def _credit_members(session: Session, period: int, lo: int, hi: int | None) -> tuple[int, int]:
    """Step 4: credit the members lo <= id < hi from their employers' suspense accounts."""
    bind = {"p": period, "lo": lo, "hi": NO_UPPER_BOUND if hi is None else hi,
            "list_status": DEBITED}
    # The control totals say what each employer owes this range; bulk_credit refuses the
    # voucher if the lines themselves add up to anything else.
    debit_lines = repository.range_totals_by_suspense(session, period, DEBITED, lo)
    if not debit_lines:
        return 0, 0
    total = sum(amount for _, amount in debit_lines)
    upper = "起" if hi is None else f"至{hi - 1}"
    voucher = bulk.bulk_credit(
        session, "remit", repository.member_range_credit_source(), bind,
        debit_lines=debit_lines, value_date=_value_date(clock.today()),
        summary=f"汇缴{period} 批量入账 职工序号{lo}{upper}", memo=f"汇缴{period}")
    return (voucher.line_count - len(debit_lines) if voucher else 0), total


def _close(session: Session, period: int) -> tuple[int, int]:
    """Step 5: the debited lists are credited; their employers are paid through the month."""
    debited = select(RemitList.employer_id).where(
        RemitList.kind == "remit", RemitList.period == period, RemitList.status == DEBITED)
    session.execute(update(Employer).where(Employer.id.in_(debited)).values(paid_through=period))
    session.execute(update(RemitList).where(
        RemitList.kind == "remit", RemitList.period == period, RemitList.status == DEBITED)
        .values(status="credited", credited_on=clock.today()))
    return 0, 0


def _due(session: Session, employer: Employer, period: int) -> bool:
    """Due for this month by the batch: next month owed, not deferred, no list under way."""
    if domain.next_due_month(employer.first_month, employer.paid_through) != period:
        return False
    if employer.deferred_from and employer.deferred_until and \
            employer.deferred_from <= period <= employer.deferred_until:
        return False
    return repository.list_for_period(session, employer.id, "remit", period) is None
