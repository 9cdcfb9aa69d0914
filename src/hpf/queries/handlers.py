"""Query services (q.*) of accounts and deposits."""

import json
from typing import Annotated

from pydantic import Field
from sqlalchemy import select

from hpf.deposits import service as deposits
from hpf.deposits.access import employer_for, member_for
from hpf.deposits.models import MEMBER_STATUS_ZH
from hpf.gateway.models import Command
from hpf.gateway.registry import Ctx, Params
from hpf.gateway.registry import service as handles
from hpf.identity.visibility import (
    document_view,
    employer_view,
    masked,
    member_view,
    sees_member,
)
from hpf.kit import clock
from hpf.ledger import domain as ledger_domain
from hpf.ledger.models import LedgerAccount
from hpf.queries import repository

Page = Annotated[int, Field(ge=1, le=100_000)]
PageSize = Annotated[int, Field(ge=1, le=200)]


class MemberQuery(Params):
    member_no: Annotated[str, Field(max_length=20, pattern=r"^\d+$")] | None = None


class MemberDetails(MemberQuery):
    year: Annotated[int, Field(ge=1990, le=2100)] | None = None


class MemberDeposits(MemberQuery):
    page: Page = 1
    page_size: PageSize = 50


class UnitQuery(Params):
    unit_no: Annotated[str, Field(max_length=20, pattern=r"^\d+$")] | None = None


class UnitMembers(UnitQuery):
    status: Annotated[str, Field(pattern=r"^(01|02|03|04|05|06|99)$")] | None = None
    page: Page = 1
    page_size: PageSize = 50
    export: bool = False  # the whole roster (up to EXPORT_LIMIT rows) for the Excel export


EXPORT_LIMIT = 50_000


class UnitPaged(UnitQuery):
    page: Page = 1
    page_size: PageSize = 50


@handles("q.member_account", MemberQuery)
def member_account(ctx: Ctx, p: MemberQuery) -> dict:
    """Member account summary; ID number and phone in full only for the member and the staff
    who need them (hpf.identity.visibility)."""
    member = member_for(ctx, p.member_no)
    return member_view(ctx.principal, member.id, deposits.member_summary(ctx.session, member))


@handles("q.member_details", MemberDetails)
def member_details(ctx: Ctx, p: MemberDetails) -> dict:
    """Transactions of one interest year (1 July to 30 June) with the carry-over line."""
    member = member_for(ctx, p.member_no)
    year = p.year if p.year is not None else ledger_domain.interest_year_of(clock.today())
    start, end = ledger_domain.interest_year_bounds(year)
    opening = repository.balance_before(ctx.session, member.account_id, start)
    lines = [{"date": start, "entry_type": "carry_over", "entry_zh": "上年结转",
              "amount_fen": 0, "direction": "", "balance_fen": opening}]
    balance = opening
    for posting in repository.postings_between(ctx.session, member.account_id, start, end):
        signed = posting.amount_fen if posting.side == "C" else -posting.amount_fen
        balance += signed
        label = ledger_domain.ENTRY_TYPES[posting.entry_type]
        if posting.entry_type in ("remit", "supplement") and posting.period:
            label = f"{label}{posting.period}"
        lines.append({"date": posting.value_date, "entry_type": posting.entry_type,
                      "entry_zh": label, "amount_fen": posting.amount_fen,
                      "direction": "贷" if posting.side == "C" else "借", "balance_fen": balance})
    lines.reverse()
    return {"member_no": member.member_no, "year": year, "period_start": start,
            "period_end": end, "opening_fen": opening, "closing_fen": balance, "lines": lines}


@handles("q.member_deposits", MemberDeposits)
def member_deposits(ctx: Ctx, p: MemberDeposits) -> dict:
    """Remittance and supplementary deposit history, per month."""
    member = member_for(ctx, p.member_no)
    rows = repository.deposit_lines(ctx.session, member.id, (p.page - 1) * p.page_size,
                                    p.page_size)
    return {"member_no": member.member_no, "page": p.page, "items": [
        {"period": period, "kind": kind, "kind_zh": ledger_domain.ENTRY_TYPES[kind],
         "base_fen": base, "unit_fen": unit, "member_fen": mine, "amount_fen": amount,
         "credited_on": credited}
        for period, kind, base, unit, mine, amount, credited in rows]}


@handles("q.unit_info", UnitQuery)
def unit_info(ctx: Ctx, p: UnitQuery) -> dict:
    """Employer summary, with arrears; the contact phone masked for outsiders."""
    employer = employer_for(ctx, p.unit_no)
    return employer_view(ctx.principal, employer.id,
                         deposits.employer_summary(ctx.session, employer))


@handles("q.unit_members", UnitMembers)
def unit_members(ctx: Ctx, p: UnitMembers) -> dict:
    """The employer's roster with balances (export: GET /api/v1/exports/unit-members.xlsx)."""
    employer = employer_for(ctx, p.unit_no)
    offset, limit = (0, EXPORT_LIMIT) if p.export else ((p.page - 1) * p.page_size, p.page_size)
    rows = repository.roster(ctx.session, employer.id, p.status, offset, limit)

    def id_number(m) -> str:  # noqa: ANN001
        return m.id_number if sees_member(ctx.principal, m.id) else masked("id_number",
                                                                           m.id_number)
    return {"unit_no": employer.unit_no, "page": p.page, "items": [
        {"member_no": m.member_no, "name": m.name, "id_number": id_number(m),
         "status": m.status, "status_zh": MEMBER_STATUS_ZH[m.status], "base_fen": m.base_fen,
         "unit_ratio_bps": m.unit_ratio_bps, "member_ratio_bps": m.member_ratio_bps,
         "balance_fen": balance, "opened_on": m.opened_on}
        for m, balance in rows]}


@handles("q.unit_deposits", UnitPaged)
def unit_deposits(ctx: Ctx, p: UnitPaged) -> dict:
    """Remittance and supplementary lists of the employer and their ledger state."""
    employer = employer_for(ctx, p.unit_no)
    lists = repository.employer_lists(ctx.session, employer.id, (p.page - 1) * p.page_size,
                                      p.page_size)
    suspense = ctx.session.get(LedgerAccount, employer.suspense_account_id)
    return {"unit_no": employer.unit_no, "paid_through": employer.paid_through,
            "suspense_fen": suspense.balance_fen if suspense else 0, "page": p.page,
            "items": [{"period": x.period, "kind": x.kind,
                       "kind_zh": ledger_domain.ENTRY_TYPES[x.kind], "status": x.status,
                       "member_count": x.member_count, "total_fen": x.total_fen,
                       "reference": x.reference, "credited_on": x.credited_on}
                      for x in lists]}


@handles("q.unit_business", UnitPaged)
def unit_business(ctx: Ctx, p: UnitPaged) -> dict:
    """Every business call filed under the employer (openings, changes, seals, ...)."""
    employer = employer_for(ctx, p.unit_no)
    rows = ctx.session.scalars(
        select(Command).where(Command.employer_id == employer.id,
                              Command.service_code.like("dep.%"))
        .order_by(Command.id.desc()).offset((p.page - 1) * p.page_size).limit(p.page_size))
    return {"unit_no": employer.unit_no, "page": p.page, "items": [
        {"application_no": f"YW{c.id:012d}", "service": c.service_code, "channel": c.channel,
         "status": c.status, "created_at": c.created_at, "error": c.error_message,
         # Results were stored as their caller saw them (a clerk sees ID numbers in full).
         "result": document_view(ctx.principal, json.loads(c.result_json).get("result"))
         if c.result_json else None}
        for c in rows]}
