"""Monthly remittance by direct debit for every signed employer (批量自动代扣汇缴), set-based.

For a month, each employer that signed a debit agreement and is due for that month gets its
list generated and confirmed, its account debited through the bank adapter, the money booked
into its suspense account, and the list credited to its members: per chunk of employers one
INSERT of all lines, one receipt voucher and one crediting voucher for all members. Employers
already working on the month online (a list exists) are left to finish it themselves.
"""

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from hpf.catalog import params
from hpf.deposits import domain, repository
from hpf.deposits.models import U_CLOSED, Employer, Receipt, RemitList
from hpf.deposits.remittance import _reference, _value_date
from hpf.exchange.bank import DebitRefused, bank_adapter
from hpf.jobs.runner import JobResult, run_job
from hpf.kit import clock
from hpf.kit.errors import UpstreamUnavailable
from hpf.ledger import bulk
from hpf.ledger import domain as ledger_domain
from hpf.ledger import service as ledger

CHUNK_EMPLOYERS = 200


def run_monthly_debit(factory: sessionmaker[Session], period: int, *,
                      chunk_employers: int = CHUNK_EMPLOYERS,
                      show_progress: bool = False) -> JobResult:
    """Run (or resume) the month's batch debit; the job key is the month."""
    domain.check_period(period, clock.month_key(clock.today()))

    def plan(session: Session) -> list:
        ids = list(session.scalars(
            select(Employer.id).where(Employer.status != U_CLOSED, Employer.kind == "ordinary",
                                      Employer.debit_account_no.is_not(None))
            .order_by(Employer.id)))
        return [ids[i:i + chunk_employers] for i in range(0, len(ids), chunk_employers)]

    def chunk(session: Session, employer_ids: list[int], _marker: int) -> tuple[int, int]:
        return _debit_chunk(session, employer_ids, period)

    return run_job(factory, "remit-debit", str(period), plan, chunk, show_progress=show_progress)


def _debit_chunk(session: Session, employer_ids: list[int], period: int) -> tuple[int, int]:
    today = clock.today()
    employers = [e for e in session.scalars(
        select(Employer).where(Employer.id.in_(employer_ids)).with_for_update())
        if _due(session, e, period)]
    if not employers:
        return 0, 0
    lists = [{"employer_id": e.id, "kind": "remit", "period": period, "seq": 1,
              "status": "confirmed", "reference": _reference("remit"),
              "confirmed_at": clock.now(), "member_count": 0, "unit_total_fen": 0,
              "member_total_fen": 0, "total_fen": 0} for e in employers]
    session.execute(insert(RemitList), lists)
    by_employer = dict(session.execute(
        select(RemitList.employer_id, RemitList.id).where(
            RemitList.employer_id.in_([e.id for e in employers]), RemitList.kind == "remit",
            RemitList.period == period, RemitList.status == "confirmed")).all())
    list_ids = list(by_employer.values())
    repository.fill_lines_for_lists(session, list_ids, params.get(session, "deposit.rounding_unit"))
    repository.refresh_totals_for_lists(session, list_ids)
    totals = dict(session.execute(
        select(RemitList.employer_id, RemitList.total_fen).where(RemitList.id.in_(list_ids))).all())
    references = dict(session.execute(
        select(RemitList.employer_id, RemitList.reference).where(RemitList.id.in_(list_ids))).all())

    paid: list[tuple[Employer, int, str]] = []
    empty: list[int] = []
    adapter = bank_adapter(session)
    for employer in employers:
        amount = totals[employer.id]
        if amount == 0:
            empty.append(employer.id)
            continue
        try:
            result = adapter.debit(employer.bank_code, employer.debit_account_no, employer.name,
                                   amount, references[employer.id])
        except (DebitRefused, UpstreamUnavailable):
            continue  # the list stays confirmed; the employer pays by transfer
        paid.append((employer, result.amount_fen, result.bank_txn_id))

    if empty:
        # A month with no active member owes nothing (零申报): close the empty lists.
        session.execute(update(RemitList).where(RemitList.id.in_(
            [by_employer[e] for e in empty])).values(status="credited", credited_on=today))
        session.execute(update(Employer).where(Employer.id.in_(empty)).values(paid_through=period))
    if not paid:
        return 0, 0
    value_date = _value_date(today)
    total = sum(amount for _, amount, _ in paid)
    bank = ledger.system_account(session, ledger_domain.BANK_SETTLEMENT, "bank", None,
                                 "委托银行结算户")
    receipt_voucher = ledger.post(
        session, "receipt",
        [ledger_domain.Line(bank.id, ledger_domain.DEBIT, total),
         *[ledger_domain.Line(e.suspense_account_id, ledger_domain.CREDIT, amount,
                              memo=references[e.id]) for e, amount, _ in paid]],
        summary=f"批量代扣汇缴{period} {len(paid)}户", value_date=value_date)
    session.execute(insert(Receipt), [
        {"bank_code": e.bank_code, "bank_txn_id": txn, "amount_fen": amount,
         "payer_name": e.name[:100], "payer_account": e.debit_account_no,
         "reference": references[e.id], "arrived_on": today, "employer_id": e.id,
         "status": "matched", "suspense_account_id": e.suspense_account_id,
         "receipt_voucher_id": receipt_voucher.id, "matched_list_id": by_employer[e.id]}
        for e, amount, txn in paid])
    paid_lists = [by_employer[e.id] for e, _, _ in paid]
    voucher = bulk.bulk_credit(
        session, "remit",
        "SELECT account_id, amount_fen, period FROM dep_remit_line "
        "WHERE list_id IN :lists AND amount_fen > 0", {"lists": paid_lists},
        debit_lines=[(e.suspense_account_id, amount) for e, amount, _ in paid],
        value_date=value_date, summary=f"汇缴{period} 批量入账{len(paid)}户",
        memo=f"汇缴{period}")
    session.execute(text(
        "UPDATE dep_remit_list SET status = 'credited', credited_on = :today, "
        "voucher_id = :vid, receipt_id = (SELECT r.id FROM dep_receipt r "
        "  WHERE r.matched_list_id = dep_remit_list.id) WHERE id IN :ids"
    ).bindparams(bindparam("ids", expanding=True)),
        {"today": today, "vid": voucher.id, "ids": paid_lists})
    session.execute(update(Employer).where(Employer.id.in_([e.id for e, _, _ in paid]))
                    .values(paid_through=period))
    members = session.scalar(text(
        "SELECT COUNT(*) FROM dep_remit_line WHERE list_id IN :ids")
        .bindparams(bindparam("ids", expanding=True)),
        {"ids": paid_lists})
    return members or 0, total


def _due(session: Session, employer: Employer, period: int) -> bool:
    """Due for this month by the batch: next month owed, not deferred, no list under way."""
    if domain.next_due_month(employer.first_month, employer.paid_through) != period:
        return False
    if employer.deferred_from and employer.deferred_until and \
            employer.deferred_from <= period <= employer.deferred_until:
        return False
    return repository.list_for_period(session, employer.id, "remit", period) is None
