"""The central bank's credit reference (人民银行征信): a person's housing loans.

Interface + local implementation over the registry table we hold (reg_housing_loan, loaded
from the files the data bureau sends or filled by the demo seed) + HTTP implementation asking
the data-exchange platform. A source that cannot answer raises UpstreamUnavailable; callers
never read that as "no loans".
"""

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.config import get_settings
from hpf.exchange import shared_platform as sp
from hpf.exchange.people_models import RegHousingLoan

UNAVAILABLE_CODE = "CREDIT_REFERENCE_UNAVAILABLE"
UNAVAILABLE_MESSAGE = "征信系统暂时无法响应，请稍后再试"
LOAN_KINDS = ("commercial", "fund", "portfolio")
LOAN_STATUSES = ("normal", "overdue", "settled")
LOAN_ROLES = ("borrower", "co_borrower")
# A limit on one answer; nobody holds more housing loans than this.
MAX_LOANS = 50


@dataclass(frozen=True)
class HousingLoan:
    """A housing loan on the person's credit report; amounts as of reported_on."""

    contract_no: str
    lender: str  # lending bank (贷款机构)
    kind: str  # commercial | fund (公积金贷款) | portfolio (组合贷款)
    role: str  # borrower | co_borrower
    property_address: str
    principal_fen: int
    term_months: int
    start_date: date
    outstanding_fen: int
    repaid_12m_fen: int  # repaid in the 12 months before reported_on
    status: str  # normal | overdue | settled
    reported_on: date


class CreditReferenceSource(Protocol):
    """What withdrawals ask of the credit reference."""

    def housing_loans_of(self, id_number: str) -> list[HousingLoan]:
        """Every housing loan the person borrows or co-borrows (settled ones included)."""
        ...


def _loan(row: RegHousingLoan) -> HousingLoan:
    return HousingLoan(row.contract_no, row.lender, row.kind, row.role, row.property_address,
                       row.principal_fen, row.term_months, row.start_date, row.outstanding_fen,
                       row.repaid_12m_fen, row.status, row.reported_on)


class LocalCreditReference:
    """Answers from reg_housing_loan."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def housing_loans_of(self, id_number: str) -> list[HousingLoan]:
        """Latest loan first."""
        rows = self.session.scalars(
            select(RegHousingLoan).where(RegHousingLoan.id_number == id_number)
            .order_by(RegHousingLoan.start_date.desc(), RegHousingLoan.contract_no)
            .limit(MAX_LOANS)).all()
        return [_loan(r) for r in rows]


def _choice(value: object, allowed: tuple[str, ...]) -> str:
    text = sp.text(value)
    if text not in allowed:
        raise sp.BadAnswer(f"unexpected value {text!r}")
    return text


def _amount(value: object) -> int:
    amount = sp.integer(value)
    if amount < 0:
        raise sp.BadAnswer("negative amount")
    return amount


def loan_from_json(data: dict) -> HousingLoan:
    """A HousingLoan from one record of the platform's answer."""
    return HousingLoan(
        contract_no=sp.text(data["contract_no"]), lender=sp.text(data["lender"]),
        kind=_choice(data["kind"], LOAN_KINDS), role=_choice(data["role"], LOAN_ROLES),
        property_address=sp.text(data["property_address"]),
        principal_fen=_amount(data["principal_fen"]),
        term_months=sp.integer(data["term_months"]), start_date=sp.day(data["start_date"]),
        outstanding_fen=_amount(data["outstanding_fen"]),
        repaid_12m_fen=_amount(data["repaid_12m_fen"]),
        status=_choice(data["status"], LOAN_STATUSES), reported_on=sp.day(data["reported_on"]))


class HttpCreditReference:
    """Asks the platform: POST {url}/credit/housing-loans {id_number}."""

    def __init__(self, base_url: str, timeout_s: float) -> None:
        self.client = sp.PlatformClient(base_url, timeout_s, code=UNAVAILABLE_CODE,
                                        message=UNAVAILABLE_MESSAGE)

    def housing_loans_of(self, id_number: str) -> list[HousingLoan]:
        """Answer {"loans": [{...}, ...]}, returned latest first."""
        def parse(d: dict) -> list[HousingLoan]:
            loans = [loan_from_json(r) for r in sp.records(d["loans"])]
            if len(loans) > MAX_LOANS:
                raise sp.BadAnswer("too many loans")
            loans.sort(key=lambda loan: loan.contract_no)
            loans.sort(key=lambda loan: loan.start_date, reverse=True)
            return loans

        return self.client.ask("/credit/housing-loans", {"id_number": id_number}, parse)


def credit_reference_source(session: Session) -> CreditReferenceSource:
    """The configured credit reference source."""
    settings = get_settings()
    if settings.shared_data_adapter == "http" and settings.shared_data_url:
        return HttpCreditReference(settings.shared_data_url, settings.http_timeout_s)
    return LocalCreditReference(session)
