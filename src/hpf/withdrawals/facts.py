"""Inputs of the withdrawal rules: what the member record and the shared sources say.

The service fills these from the database and the exchange adapters; the rules in rules.py
read nothing else. A source that could not answer (failure, timeout) is recorded as the
sentinel UNAVAILABLE, never as "no record": the rules then send the case to staff review and
never approve it automatically (domain-rules §8).

Units: money in fen; floor areas in dm² (1 dm² = 0.01 m², the registry's two decimals of m²).
Owners, buyers, borrowers and patients are resident ID numbers (18 characters).
"""

from dataclasses import dataclass
from datetime import date
from typing import Final, TypeVar


class Unavailable:
    """The type of UNAVAILABLE: a source that could not answer."""

    _instance: "Unavailable | None" = None

    def __new__(cls) -> "Unavailable":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNAVAILABLE"

    def __bool__(self) -> bool:
        # An unanswered source must never read as "no" (no home, not married...).
        raise TypeError("UNAVAILABLE has no truth value; test `is UNAVAILABLE`")


UNAVAILABLE: Final = Unavailable()

T = TypeVar("T")
Maybe = T | Unavailable  # a value, or UNAVAILABLE

# JGJ/T 320 member account status codes.
ACCOUNT_NORMAL, ACCOUNT_SEALED, ACCOUNT_FROZEN = "01", "02", "06"
ACCOUNT_CLOSED = frozenset({"03", "04", "05"})
# JGJ/T 320 employer account status: 01 正常 (02 开户, 03 缓缴, 04 销户, 05 封存, 99 其他).
EMPLOYER_NORMAL = "01"


@dataclass(frozen=True)
class MemberFacts:
    """The account holder as the centre's records and the identity source know them."""

    member_id: int
    name: str
    id_number: str
    gender: str  # M | F
    birth_date: date
    female_group: int | None  # 55 | 50 for women (domain-rules §7), None: the default 55
    hukou_local: bool | Unavailable  # public security: hukou in this city
    account_status: str  # JGJ/T 320: 01 正常, 02 封存, 06 冻结, 03/04/05 closed
    sealed_since: date | None
    balance_fen: int
    available_fen: int  # balance minus holds (money reserved for pending business)
    retirement_recorded_on: date | None = None  # the employer set the member to retired
    deceased: bool = False  # public security record
    # The member's employer (for a sealed member, the one left): its JGJ/T 320 status and the
    # months it owes before this one (seed 002: leavers of an irregular employer prove the end
    # of employment).
    employer_status: str = EMPLOYER_NORMAL
    employer_arrears_months: int = 0


@dataclass(frozen=True)
class Home:
    """A home registered in the city (不动产登记)."""

    cert_no: str
    floor_area_dm2: int  # 0.01 m²
    registered_on: date
    owners: tuple[str, ...]


@dataclass(frozen=True)
class PurchaseContract:
    """A filed housing purchase contract (商品房买卖合同网签备案 / 存量房合同)."""

    contract_no: str
    buyers: tuple[str, ...]
    price_fen: int
    signed_on: date


# Invoice kinds.
DEED_TAX, HOUSE_SALE, RENOVATION, REPAIR, CONSTRUCTION, PROPERTY_FEE = (
    "deed_tax", "house_sale", "renovation", "repair", "construction", "property_fee")


@dataclass(frozen=True)
class Invoice:
    """A tax invoice or tax payment record (税务发票 / 完税凭证)."""

    invoice_no: str
    kind: str  # deed_tax | house_sale | renovation | repair | construction | property_fee
    amount_fen: int
    issued_on: date
    buyer: str  # ID number of the payer named on the invoice


@dataclass(frozen=True)
class MaintenancePayment:
    """A housing maintenance fund deposit (住宅专项维修资金缴存)."""

    payment_no: str
    cert_no: str | None  # the home, when registered
    contract_no: str | None  # or the purchase contract
    amount_fen: int
    paid_on: date
    payer: str


@dataclass(frozen=True)
class DisabilityAssessment:
    """A working-capacity assessment (劳动能力鉴定): grades 1-4 mean capacity lost."""

    grade: int
    assessed_on: date


@dataclass(frozen=True)
class IllnessRecord:
    """A serious illness record (重大疾病) of the member or a family member."""

    record_no: str
    patient: str
    diagnosed_on: date
    self_paid_fen: int  # the patient's own share of the medical costs


FUND, COMMERCIAL = "fund", "commercial"


@dataclass(frozen=True)
class HousingLoan:
    """A housing loan from the credit reference or the centre's own loans."""

    kind: str  # fund | commercial
    contract_no: str
    borrowers: tuple[str, ...]
    principal_fen: int
    outstanding_fen: int
    repaid_12m_fen: int  # repayments in the 12 months up to today
    house_contract_no: str | None = None  # the purchase contract the loan financed
    reported_on: date | None = None  # the day outstanding_fen was reported


@dataclass(frozen=True)
class Evidence:
    """What the shared sources said; each field a value or UNAVAILABLE.

    Every field defaults to UNAVAILABLE, so a source nobody asked can only send the case to
    review, never approve it. The service fills the sources rules.SOURCES[kind] names: the
    homes of the member and the spouse, contracts, invoices and loans naming either of them.
    """

    homes: Maybe[tuple[Home, ...]] = UNAVAILABLE
    contracts: Maybe[tuple[PurchaseContract, ...]] = UNAVAILABLE
    invoices: Maybe[tuple[Invoice, ...]] = UNAVAILABLE
    maintenance_payments: Maybe[tuple[MaintenancePayment, ...]] = UNAVAILABLE
    spouse_id_number: Maybe[str | None] = UNAVAILABLE  # civil affairs marriage; None: unmarried
    low_income_allowance: Maybe[bool] = UNAVAILABLE  # minimum living allowance active today
    unemployment_registered: Maybe[bool] = UNAVAILABLE
    social_security_retired_on: Maybe[date | None] = UNAVAILABLE
    disability: Maybe[DisabilityAssessment | None] = UNAVAILABLE
    illnesses: Maybe[tuple[IllnessRecord, ...]] = UNAVAILABLE
    loans: Maybe[tuple[HousingLoan, ...]] = UNAVAILABLE


MEMBER, SPOUSE, HEIR = "member", "spouse", "heir"


@dataclass(frozen=True)
class Request:
    """One application as the member (or spouse, or heir) made it."""

    kind: str  # wd.* service code
    amount_fen: int | None = None  # None: as much as the rules allow
    at_counter: bool = False
    applicant: str = MEMBER  # member | spouse (with authorisation) | heir (death, counter)
    applicant_id_number: str | None = None  # the spouse's or heir's ID number
    spouse_authorised: bool = False  # the account holder authorised the spouse
    contract_no: str | None = None  # purchase contract
    cert_no: str | None = None  # property certificate
    invoice_nos: tuple[str, ...] = ()
    loan_contract_no: str | None = None
    illness_record_no: str | None = None
    rent_months: int | None = None  # rent: months claimed in arrears (required for rent)


@dataclass(frozen=True)
class PastWithdrawal:
    """An earlier withdrawal of the member's or the spouse's account (approved or pending;
    refused ones and payouts returned whole are left out)."""

    kind: str
    amount_fen: int
    decided_on: date
    reference: str | None = None  # the contract / certificate / invoice / loan / record number
    by: str = MEMBER  # member | spouse: whose account paid it
    at_counter: bool = False


@dataclass(frozen=True)
class RuleParams:
    """The centre's parameters of domain-rules §5 (the demo city's defaults)."""

    min_balance_fen: int = 1_000  # left in the account by a partial withdrawal (demo: 10 yuan)
    rent_monthly_cap_fen: int = 150_000  # §5: 1,500 yuan per person per month
    rent_max_arrears_months: int = 12  # months a first rent withdrawal may claim back
    property_fee_cap_fen_per_m2_month: int = 200  # demo city: 2 yuan per m² per month
    purchase_window_months: int = 24  # §5: within 2 years of the purchase (calendar months)
    non_local_sealed_months: int = 6  # seed 002: sealed at least half a year
    renovation_window_days: int = 365  # invoices older than this are not accepted
    down_payment_window_days: int = 365  # the down payment receipt's validity
    disability_max_grade: int = 4  # grades 1-4 (seed 000 wd-12)
