"""Facts for the withdrawal rules: the member record, the shared sources, the history, the
centre's parameters, mapped onto hpf.withdrawals.facts and handed to rules.assess.

Each kind asks only the sources its rules read. A source that cannot answer becomes
UNAVAILABLE, which the rules turn into a staff review: an unanswered question never approves.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from hpf.catalog import params as catalog_params
from hpf.deposits import remittance
from hpf.deposits.models import M_SEALED, Employer, Member
from hpf.deposits.service import CITY_CODE
from hpf.exchange import civil, credit, housing, identity, social, tax
from hpf.exchange import property as property_registry
from hpf.kit.errors import UpstreamUnavailable
from hpf.kit.sealed import id_number_index
from hpf.ledger import service as ledger
from hpf.ledger.models import LedgerAccount
from hpf.withdrawals import facts as f
from hpf.withdrawals import kinds, retirement, rules
from hpf.withdrawals.models import FAILED, REJECTED, WdApplication
from hpf.withdrawals.schemas import Withdraw

# Dated parameters of the rules (catalog.params) and the RuleParams field each one sets.
PARAMS = {
    "withdrawal.min_balance_fen": "min_balance_fen",
    "withdrawal.rent_monthly_cap_fen": "rent_monthly_cap_fen",
    "withdrawal.property_fee_cap_fen_per_m2_month": "property_fee_cap_fen_per_m2_month",
    "withdrawal.purchase_window_months": "purchase_window_months",
    "withdrawal.non_local_sealed_months": "non_local_sealed_months",
}


@dataclass(frozen=True)
class Asked:
    """What the shared sources answered for one member and kind: asked before the
    application's transaction (the gateway's prepare step), so no lock waits on them."""

    kind: str
    member_id: int
    id_number: str
    name: str
    who: Any  # (hukou in this city, deceased), or UNAVAILABLE
    evidence: f.Evidence
    cert_contract: dict[str, str]

    def fits(self, kind: str, member: Member) -> bool:
        """True when these answers are about this member as the transaction reads it now."""
        return (self.kind, self.member_id, self.id_number, self.name) == (
            kind, member.id, member.id_number, member.name)


def ask(session: Session, kind: str, member: Member, today: date) -> Asked:
    """Ask every shared source the kind's rules read (rules.SOURCES) about the member."""
    evidence, cert_contract = _evidence(session, kind, member.id_number, today)
    return Asked(kind, member.id, member.id_number, member.name, _identity(session, member),
                 evidence, cert_contract)


def assess(session: Session, kind: str, member: Member, account: LedgerAccount, p: Withdraw,
           channel: str, today: date, asked: Asked | None = None):
    """Assess the application on the sources' answers (`asked`, or asked now when absent or
    about another state of the member) and what this database holds: the member, the
    balance, the family's past withdrawals, the parameters in force."""
    if asked is None or not asked.fits(kind, member):
        asked = ask(session, kind, member, today)
    who, evidence, cert_contract = asked.who, asked.evidence, asked.cert_contract
    member_facts = f.MemberFacts(
        member_id=member.id, name=member.name, id_number=member.id_number,
        gender=member.gender, birth_date=member.birth_date,
        female_group=retirement.female_group_of(member.retire_group),
        hukou_local=who if who is f.UNAVAILABLE else who[0],
        account_status=member.status,
        sealed_since=member.sealed_on if member.status == M_SEALED else None,
        balance_fen=account.balance_fen, available_fen=ledger.available_fen(account),
        retirement_recorded_on=(member.sealed_on or today) if member.retired else None,
        deceased=False if who is f.UNAVAILABLE else who[1],
        **(_employer(session, member) if kind == "wd.leave_job_nonlocal" else {}))
    contract_no, cert_no = p.contract_no, p.cert_no
    if kind == "wd.purchase" and contract_no is None and p.cert_no in cert_contract:
        # One home, one cap: a home bought under a contract and later registered is counted
        # under its contract whichever document the member names.
        contract_no = cert_contract[p.cert_no]
    if kind == "wd.maintenance_fund" and cert_no is None and contract_no is not None:
        # The same for the maintenance fund, under the certificate (the home's lasting number):
        # applications naming either number then lock and are stored under one.
        cert_no = next((c for c, k in sorted(cert_contract.items()) if k == contract_no), None)
    at_counter = channel == "counter"
    applicant = (f.HEIR if kind == "wd.death"
                 else f.SPOUSE if p.spouse_id_number is not None else f.MEMBER)
    request = f.Request(
        kind=kind, amount_fen=p.amount_fen, at_counter=at_counter, applicant=applicant,
        applicant_id_number=p.heir_id_number or p.spouse_id_number,
        # A spouse applies at the counter, where the clerk holds the signed authorisation.
        spouse_authorised=applicant == f.SPOUSE and at_counter,
        contract_no=contract_no, cert_no=cert_no,
        invoice_nos=tuple(p.invoice_nos), loan_contract_no=p.loan_contract_no,
        illness_record_no=p.illness_record_no, rent_months=p.rent_months)
    spouse = evidence.spouse_id_number
    _serialise_family(session, kind, rules.reference_of(request))
    past = past_withdrawals(session, member.id,
                            spouse if isinstance(spouse, str) else None)
    assessment = rules.assess(request, member_facts, evidence, past,
                              rule_params(session, today), today)
    if who is f.UNAVAILABLE and not assessment.refusals:
        # Whether the member is alive and where the hukou is were not confirmed: a person
        # looks, the case is never decided on an unanswered question.
        assessment.review_reasons.append(rules.Reason(
            "REVIEW_SOURCE_UNAVAILABLE", "公安户籍信息暂时无法核验，转人工审核",
            {"source": "identity"}))
        if assessment.route == "auto":
            assessment.route = "review"
    return assessment


def _employer(session: Session, member: Member) -> dict[str, Any]:
    """The member's employer's status and the months it owes (MemberFacts fields)."""
    employer = session.get(Employer, member.employer_id)
    return {"employer_status": employer.status,
            "employer_arrears_months": len(remittance.arrears(session, employer)["months"])}


def _serialise_family(session: Session, kind: str, reference: str | None) -> None:
    """One application at a time per family document (a contract, a certificate, a loan):
    the caps the spouses share are read and spent under one lock. SQLite already runs one
    writer at a time; PostgreSQL takes a transaction-scoped advisory lock on the document."""
    if reference is None or "spouse_id_number" not in rules.SOURCES.get(kind, ()):
        return
    if session.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(f"wd:{reference}".encode()).digest()[:8], "big",
                         signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def rule_params(session: Session, today: date) -> f.RuleParams:
    """The centre's parameters in force today."""
    return f.RuleParams(**{field: catalog_params.get(session, key, today)
                           for key, field in PARAMS.items()})


def _ask(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except UpstreamUnavailable:
        return f.UNAVAILABLE


def _identity(session: Session, member: Member):
    """(hukou in this city, deceased) from the identity source, or UNAVAILABLE."""
    answer = _ask(lambda: identity.identity_source(session).check(member.id_number, member.name))
    if answer is f.UNAVAILABLE:
        return f.UNAVAILABLE
    return bool(answer.hukou_city and answer.hukou_city.startswith(CITY_CODE)), answer.deceased


def _evidence(session: Session, kind: str, id_number: str, today: date) -> f.Evidence:
    """Ask the sources this kind's rules read (rules.SOURCES); the fields no rule of the kind
    reads keep Evidence's UNAVAILABLE default."""
    wanted = rules.SOURCES.get(kind, ())
    found: dict[str, Any] = {}
    spouse = None
    if "spouse_id_number" in wanted:
        marriage = _ask(lambda: civil.civil_affairs_source(session).marriage_of(id_number))
        spouse = marriage if marriage is f.UNAVAILABLE else (
            marriage.spouse_id_number if marriage else None)
        found["spouse_id_number"] = spouse
    people = [id_number] + ([spouse] if isinstance(spouse, str) else [])
    homes = contracts = None
    if "homes" in wanted or "maintenance_payments" in wanted:
        homes = _each(people, lambda who: [
            h for h in property_registry.property_source(session).homes_of(who)
            if h.status == "active"])
    if "homes" in wanted:
        found["homes"] = homes if homes is f.UNAVAILABLE else tuple(
            f.Home(h.cert_no, h.floor_area_dm2, h.registered_on, h.owner_id_numbers)
            for h in homes)
    if "contracts" in wanted or "maintenance_payments" in wanted or "loans" in wanted:
        contracts = _each(people, lambda who: housing.housing_source(session).contracts_of(who))
    if "contracts" in wanted:
        found["contracts"] = contracts if contracts is f.UNAVAILABLE else tuple(
            f.PurchaseContract(c.contract_no, c.buyer_id_numbers, c.price_fen, c.signed_on)
            for c in contracts)
    if "invoices" in wanted:
        found["invoices"] = _each(people, lambda who: [
            f.Invoice(i.invoice_no, i.kind, i.amount_fen, i.issued_on, i.buyer_id_number)
            for i in tax.tax_source(session).invoices_of(who)])
    if "maintenance_payments" in wanted:
        payments = _each(people, lambda who: housing.housing_source(session)
                         .maintenance_payments_of(who))
        found["maintenance_payments"] = _maintenance(payments, homes, contracts)
    if "loans" in wanted:
        # The credit report names the home by address; the purchase contract at that address
        # is the one the loan financed (the down payment is the price minus the fund loan).
        financed = ({} if contracts is None or contracts is f.UNAVAILABLE
                    else {c.address: c.contract_no for c in contracts})
        found["loans"] = _each(people, lambda who: [
            f.HousingLoan(f.FUND if loan.kind == "fund" else f.COMMERCIAL,
                          loan.contract_no, (who,), loan.principal_fen, loan.outstanding_fen,
                          loan.repaid_12m_fen, financed.get(loan.property_address),
                          loan.reported_on)
            for loan in credit.credit_reference_source(session).housing_loans_of(who)
            if loan.status != "settled"])
    if "illnesses" in wanted:
        found["illnesses"] = _each(people, lambda who: [
            f.IllnessRecord(r.record_no, who, r.from_date, r.out_of_pocket_fen)
            for r in social.social_security_source(session).serious_illness_of(who)])
    if "low_income_allowance" in wanted:
        allowance = _ask(lambda: civil.civil_affairs_source(session).low_income_of(id_number))
        found["low_income_allowance"] = allowance if allowance is f.UNAVAILABLE else bool(
            allowance and allowance.active_on(today))
    if "unemployment_registered" in wanted:
        record = _ask(lambda: social.social_security_source(session).unemployment_of(id_number))
        found["unemployment_registered"] = record if record is f.UNAVAILABLE else bool(
            record and record.active_on(today))
    if "social_security_retired_on" in wanted:
        record = _ask(lambda: social.social_security_source(session).retirement_of(id_number))
        found["social_security_retired_on"] = record if record is f.UNAVAILABLE else (
            record.retired_on if record else None)
    if "disability" in wanted:
        record = _ask(lambda: social.social_security_source(session).disability_of(id_number))
        found["disability"] = record if record is f.UNAVAILABLE else (
            f.DisabilityAssessment(record.level, record.assessed_on) if record else None)
    cert_contract = {}
    if homes not in (None, f.UNAVAILABLE) and contracts not in (None, f.UNAVAILABLE):
        contract_at = {c.address: c.contract_no for c in contracts}
        cert_contract = {h.cert_no: contract_at[h.address] for h in homes
                         if h.address in contract_at}
    return f.Evidence(**found), cert_contract


def _maintenance(payments, homes, contracts):
    """Maintenance-fund receipts tied to the family's home: the fund office names the address,
    the rules name the certificate or the purchase contract, so the address joins them."""
    if f.UNAVAILABLE in (payments, homes, contracts):
        return f.UNAVAILABLE
    cert_at = {h.address: h.cert_no for h in homes}
    contract_at = {c.address: c.contract_no for c in contracts}
    return tuple(f.MaintenancePayment(m.receipt_no, cert_at.get(m.address),
                                      contract_at.get(m.address), m.amount_fen, m.paid_on,
                                      m.id_number)
                 for m in payments)


def _each(people: list[str], fetch: Callable[[str], list]):
    """Records of the member and the spouse together, without duplicates (a home both own),
    or UNAVAILABLE when the source could not answer for either."""
    out: list = []
    for who in people:
        records = _ask(lambda who=who: fetch(who))
        if records is f.UNAVAILABLE:
            return f.UNAVAILABLE
        out.extend(r for r in records if r not in out)
    return tuple(out)


def past_withdrawals(session: Session, member_id: int,
                     spouse_id_number: str | None) -> list[f.PastWithdrawal]:
    """The member's (and the spouse's, when a member here) withdrawals that counted."""
    accounts = [(member_id, f.MEMBER)]
    if spouse_id_number:
        spouse_id = session.scalar(select(Member.id).where(
            Member.id_number_bidx == id_number_index(spouse_id_number)))
        if spouse_id is not None:
            accounts.append((spouse_id, f.SPOUSE))
    out = []
    for account_member, by in accounts:
        for app in session.scalars(select(WdApplication).where(
                WdApplication.member_id == account_member,
                WdApplication.status.not_in((REJECTED, FAILED)))):
            out.append(f.PastWithdrawal(app.kind, app.amount_fen, app.decided_on or app.applied_on,
                                        app.document_no, by, app.channel == "counter"))
    return out


def consume_materials(session: Session, member: Member, p: Withdraw, kind: str, assessment,
                      command_id: int, channel: str) -> None:
    """Mark the application's uploaded materials used. Online, an application a person must
    review carries every required material of its kind and those the rules asked of this
    case (a termination proof); at the counter the clerk sees the originals, and an automatic
    approval rests on the shared data."""
    extra = set(assessment.materials_required)
    needed = [m for m in kinds.kind(kind).materials if m.required or m.code in extra]
    automatic = assessment.route == "auto" and not assessment.review_reasons
    if channel == "counter" or automatic:
        needed = []
        if not p.materials:
            return
    from hpf.materials import service as materials

    materials.require(session, "member", member.id, p.materials,
                      [m.code for m in needed], command_id,
                      names={m.code: m.name_zh for m in needed})
