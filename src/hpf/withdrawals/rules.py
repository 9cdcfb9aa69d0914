"""Withdrawal rules (提取规则) of domain-rules §5 and §7: pure, no database, no clock.

`assess` answers for one application: every reason to refuse it (not just the first), the
amount that may be paid, the cap, and whether it can be decided automatically, needs a
person's review, or is handled at the counter. One function per kind computes the kind's cap
and its own refusals; the common checks (account state, applicant, counter, frequency,
minimum balance) run for every kind.

Amounts: a partial withdrawal pays min(request or cap, cap, available − minimum balance); a
kind that closes the account pays the whole available balance (interest to date is the
service's business). Any refusal makes `allowed_fen` 0. When a source could not answer and
the cap of a document-capped kind cannot be computed, `cap_fen` is None and the applicant must
state the amount (WD_AMOUNT_REQUIRED): it is reserved and a reviewer checks it against the
cap. (Reserving the whole balance instead would leave the reviewer only "all or nothing".)

Documented choices where the sources leave room:
- purchase: member and spouse together at most the price, counting down payment withdrawals
  for the same contract; repeated withdrawals for the same home 12 months apart within the
  window (seed 003 4.4: later withdrawals online "in the allowed periods"). "Within 2 years"
  is calendar months from the contract or the registration (`purchase_window_months`).
- down payment (seed 000 wd-7, the online variant): the down payment is the contract price
  minus the principal of the centre's fund loan financing that contract; member and spouse
  together at most that, one withdrawal each, within the receipt's validity.
- rent: per person, in arrears, at most once per calendar month: the applicant states the
  months claimed (the tenancy is on paper, no source gives it), paid at most for the months
  since the last rent withdrawal and never more than `rent_max_arrears_months`.
- property fee: once per calendar year per family (seed 000 wd-5 家庭每年一次); also at most
  a named property-fee invoice.
- commercial loan: member and spouse together at most the repayments of the 12 months the
  credit report covers, less the family's withdrawals for the loan decided since that window
  began (the report's date − 12 months).
- maintenance fund: one home has a certificate and a purchase contract; the family's past
  withdrawals under either count, and a withdrawal is stored under the certificate when known.
- non-local member leaving a job: at an employer not depositing normally (deferred, sealed as
  a whole, in arrears; seed 002) a reviewer sees the termination proof the member must upload.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, NamedTuple

from hpf.kit.clock import month_key, months_between
from hpf.kit.money import format_yuan, round_half_up
from hpf.withdrawals import retirement
from hpf.withdrawals.facts import (
    ACCOUNT_CLOSED,
    ACCOUNT_FROZEN,
    ACCOUNT_SEALED,
    COMMERCIAL,
    CONSTRUCTION,
    EMPLOYER_NORMAL,
    FUND,
    HEIR,
    HOUSE_SALE,
    MEMBER,
    PROPERTY_FEE,
    RENOVATION,
    REPAIR,
    SPOUSE,
    UNAVAILABLE,
    Evidence,
    Home,
    HousingLoan,
    Invoice,
    MemberFacts,
    PastWithdrawal,
    Request,
    RuleParams,
)
from hpf.withdrawals.kinds import (
    COUNTER,
    EVERY_12_MONTHS,
    KINDS,
    ONCE_PER_DOCUMENT,
    ONCE_PER_MONTH,
    ONCE_PER_YEAR,
    REVIEW,
    Kind,
)

AUTO_ROUTE, REVIEW_ROUTE, COUNTER_ROUTE = "auto", "review", "counter"

# Partial kinds whose cap is the available balance by rule: a source that cannot answer leaves
# the cap known. Every other partial kind's cap rests on a document the sources describe.
BALANCE_IS_THE_CAP = frozenset({"wd.low_income", "wd.unemployed"})

# Evidence fields each kind reads: the service asks these sources (and only these).
SOURCES: dict[str, tuple[str, ...]] = {
    "wd.purchase": ("spouse_id_number", "contracts", "homes", "invoices"),
    "wd.build": ("spouse_id_number", "invoices"),
    "wd.repair": ("spouse_id_number", "homes", "invoices"),
    "wd.renovate": ("spouse_id_number", "homes", "invoices"),
    "wd.rent": ("spouse_id_number", "homes"),
    "wd.property_fee": ("spouse_id_number", "homes", "invoices"),
    "wd.maintenance_fund": ("spouse_id_number", "maintenance_payments"),
    "wd.down_payment": ("spouse_id_number", "contracts", "loans"),
    "wd.repay_fund_loan": ("spouse_id_number", "loans"),
    "wd.repay_commercial_loan": ("spouse_id_number", "loans"),
    "wd.low_income": ("low_income_allowance",),
    "wd.unemployed": ("unemployment_registered",),
    "wd.disability": ("disability",),
    "wd.serious_illness": ("spouse_id_number", "illnesses"),
    "wd.retirement": ("social_security_retired_on",),
    "wd.leave_city": (),
    "wd.emigrate": (),
    "wd.leave_job_nonlocal": (),
    "wd.death": (),
}

_SOURCE_ZH = {
    "homes": "不动产登记", "contracts": "房屋交易合同备案", "invoices": "税务发票",
    "maintenance_payments": "住宅专项维修资金", "spouse_id_number": "民政婚姻登记",
    "low_income_allowance": "民政低保", "unemployment_registered": "社保失业登记",
    "social_security_retired_on": "社保退休", "disability": "劳动能力鉴定",
    "illnesses": "重大疾病医疗", "loans": "住房贷款（征信）", "hukou_local": "公安户籍",
}


class Reason(NamedTuple):
    """A refusal or a reason for review: stable code, Chinese message, details."""

    code: str
    message: str
    details: dict[str, Any]


@dataclass
class Assessment:
    """The rules' answer for one application."""

    kind: str
    refusals: list[Reason]
    allowed_fen: int
    cap_fen: int | None
    route: str  # auto | review | counter
    review_reasons: list[Reason]
    closes_account: bool
    reason_code: str  # JGJ/T 320 withdrawal reason, for the record
    reference: str | None  # the document the withdrawal rests on, to store with it
    # Materials this case needs beyond the kind's required ones (codes of kind.materials).
    materials_required: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing refuses the application."""
        return not self.refusals

    @property
    def codes(self) -> list[str]:
        """The refusal codes, in the order found."""
        return [r.code for r in self.refusals]


def reference_of(request: Request) -> str | None:
    """The document number a withdrawal of this kind is counted against (stored with it)."""
    k = request.kind
    if k == "wd.purchase":
        return request.contract_no or request.cert_no
    if k == "wd.down_payment":
        return request.contract_no
    if k in ("wd.build", "wd.repair", "wd.renovate"):
        return ",".join(sorted(request.invoice_nos)) or None
    if k == "wd.property_fee":
        # The invoices, so one cannot back a second year's withdrawal; the home otherwise.
        return ",".join(sorted(request.invoice_nos)) or request.cert_no
    if k == "wd.maintenance_fund":
        return request.cert_no or request.contract_no
    if k in ("wd.repay_fund_loan", "wd.repay_commercial_loan"):
        return request.loan_contract_no
    if k == "wd.serious_illness":
        return request.illness_record_no
    return None


def add_months(d: date, n: int) -> date:
    """The same day n months later, clamped to the month's last day (31 Aug + 6 → 28/29 Feb)."""
    index = d.year * 12 + d.month - 1 + n
    year, month0 = divmod(index, 12)
    for day in range(d.day, 27, -1):
        try:
            return date(year, month0 + 1, day)
        except ValueError:
            continue
    return date(year, month0 + 1, min(d.day, 28))


def _yuan(fen: int) -> str:
    return f"{format_yuan(fen)}元"


@dataclass
class _Case:
    """One assessment in progress: inputs, and the reasons found so far."""

    request: Request
    member: MemberFacts
    evidence: Evidence
    past: tuple[PastWithdrawal, ...]
    params: RuleParams
    today: date
    kind: Kind
    refusals: list[Reason] = field(default_factory=list)
    reviews: list[Reason] = field(default_factory=list)
    reference: str | None = None  # the document stored with the withdrawal
    materials: list[str] = field(default_factory=list)  # needed beyond the kind's own

    def refuse(self, code: str, message: str, **details: Any) -> None:
        self.refusals.append(Reason(code, message, details))

    def review(self, code: str, message: str, **details: Any) -> None:
        self.reviews.append(Reason(code, message, details))

    def source(self, name: str) -> Any:
        """The evidence field, or UNAVAILABLE after recording the review reason."""
        value = getattr(self.evidence, name)
        if value is UNAVAILABLE:
            self.unavailable(name)
        return value

    def unavailable(self, name: str) -> None:
        if not any(r.code == "REVIEW_SOURCE_UNAVAILABLE" and r.details.get("source") == name
                   for r in self.reviews):
            self.review("REVIEW_SOURCE_UNAVAILABLE",
                        f"{_SOURCE_ZH.get(name, name)}信息暂时无法查询，转人工审核", source=name)

    def family(self) -> tuple[set[str], bool]:
        """ID numbers of the member and the spouse; False when the marriage record is unknown."""
        ids = {self.member.id_number}
        spouse = self.evidence.spouse_id_number
        if spouse is UNAVAILABLE:
            return ids, False
        if spouse:
            ids.add(spouse)
        return ids, True

    def no_match(self, document: str, document_no: str | None, message: str) -> None:
        """A document the sources do not confirm: refused, unless the marriage record could
        not be read and the document may be the spouse's (then a reviewer looks)."""
        _ids, certain = self.family()
        if certain:
            self.refuse("WD_NO_DATA_MATCH", message, document=document, document_no=document_no)
        else:
            self.unavailable("spouse_id_number")

    def family_past(self, kinds: tuple[str, ...], reference: str | None) -> list[PastWithdrawal]:
        return [p for p in self.past if p.kind in kinds and p.reference == reference]

    def own_past(self, kind: str) -> list[PastWithdrawal]:
        return [p for p in self.past if p.kind == kind and p.by == MEMBER]


# ---------------------------------------------------------------- kinds: each returns the cap
# (None: the whole available balance, or unknown because a source could not answer).

def _named_invoices(case: _Case, kind: str, zh: str) -> list[Invoice] | None:
    """The request's invoices of one kind, paid by the family; refusals for the others."""
    if not case.request.invoice_nos:
        case.refuse("WD_DOCUMENT_REQUIRED", f"请提供{zh}号码", document=kind)
        return None
    invoices = case.source("invoices")
    if invoices is UNAVAILABLE:
        return None
    ids, _ = case.family()
    by_no = {i.invoice_no: i for i in invoices}
    found = []
    for no in case.request.invoice_nos:
        inv = by_no.get(no)
        if inv is None or inv.kind != kind or inv.buyer not in ids or inv.issued_on > case.today:
            case.no_match(kind, no, f"未查询到{zh}{no}的税务信息，或付款人不是本人或配偶")
        else:
            found.append(inv)
    used = {ref for p in case.past if p.kind == case.request.kind and p.reference
            for ref in p.reference.split(",")}
    for inv in found:
        if inv.invoice_no in used:
            case.refuse("WD_TOO_FREQUENT", f"发票{inv.invoice_no}已办理过提取",
                        document_no=inv.invoice_no, next_allowed_on=None)
    return found


def _family_home(case: _Case, cert_no: str | None) -> Home | None:
    """The family's registered home named by certificate (the only one when none is named)."""
    homes = case.source("homes")
    if homes is UNAVAILABLE:
        return None
    ids, _ = case.family()
    mine = [h for h in homes if ids & set(h.owners)]
    if cert_no is None:
        if len(mine) == 1:
            return mine[0]
        case.refuse("WD_DOCUMENT_REQUIRED", "请提供不动产权证书号", document="property_cert")
        return None
    home = next((h for h in mine if h.cert_no == cert_no), None)
    if home is None:
        case.no_match("property_cert", cert_no,
                      f"不动产登记中未查询到本人或配偶名下的不动产权证书{cert_no}")
    return home


def _purchase(case: _Case) -> int | None:
    r, p = case.request, case.params
    ids, _ = case.family()
    if r.contract_no:
        contracts = case.source("contracts")
        if contracts is UNAVAILABLE:
            return None
        c = next((c for c in contracts if c.contract_no == r.contract_no and ids & set(c.buyers)),
                 None)
        if c is None:
            case.no_match("purchase_contract", r.contract_no,
                          f"未查询到本人或配偶的购房合同{r.contract_no}备案信息")
            return None
        price_fen, bought_on = c.price_fen, c.signed_on
    elif r.cert_no:
        home = _family_home(case, r.cert_no)
        invoices = _named_invoices(case, HOUSE_SALE, "购房发票")
        if home is None or not invoices:
            return None
        price_fen, bought_on = sum(i.amount_fen for i in invoices), home.registered_on
    else:
        case.refuse("WD_DOCUMENT_REQUIRED", "请提供购房合同编号或不动产权证书号",
                    document="purchase_proof")
        return None
    deadline = add_months(bought_on, p.purchase_window_months)
    if case.today > deadline:
        case.refuse("WD_PURCHASE_TOO_OLD",
                    f"购房提取须在购房之日起{p.purchase_window_months}个月内申请（截止{deadline}）",
                    bought_on=bought_on, deadline=deadline)
    used = sum(w.amount_fen for w in case.family_past(("wd.purchase", "wd.down_payment"),
                                                       reference_of(r)))
    return max(0, price_fen - used)


def _build(case: _Case) -> int | None:
    invoices = _named_invoices(case, CONSTRUCTION, "工程造价发票")
    return None if invoices is None else sum(i.amount_fen for i in invoices)


def _repair(case: _Case) -> int | None:
    home = _family_home(case, case.request.cert_no)
    invoices = _named_invoices(case, REPAIR, "大修发票")
    return None if invoices is None or home is None else sum(i.amount_fen for i in invoices)


def _renovate(case: _Case) -> int | None:
    home = _family_home(case, case.request.cert_no)
    invoices = _named_invoices(case, RENOVATION, "装修发票")
    if invoices is None or home is None:
        return None
    oldest_ok = case.today - timedelta(days=case.params.renovation_window_days)
    for inv in invoices:
        if inv.issued_on < oldest_ok:
            case.refuse("WD_INVOICE_TOO_OLD",
                        f"装修发票{inv.invoice_no}开具已超过{case.params.renovation_window_days}天",
                        document_no=inv.invoice_no, issued_on=inv.issued_on)
    return sum(i.amount_fen for i in invoices)


def _rent(case: _Case) -> int | None:
    homes = case.source("homes")
    if homes is not UNAVAILABLE:
        ids, _ = case.family()
        owned = [h.cert_no for h in homes if ids & set(h.owners)]
        if owned:
            case.refuse("WD_OWNS_HOME", "本人或配偶在本市有自有住房，不能办理租房提取",
                        cert_nos=owned)
        if case.evidence.spouse_id_number is UNAVAILABLE:
            case.unavailable("spouse_id_number")  # the spouse's homes could not be checked
    earlier = case.own_past("wd.rent")
    due = case.params.rent_max_arrears_months
    if earlier:
        # In arrears since the last one, but never further back than a first claim may go.
        last = max(w.decided_on for w in earlier)
        due = max(0, min(due, months_between(month_key(last), month_key(case.today))))
    if case.request.rent_months is None:
        # No source knows the tenancy: defaulting to every month due paid a year's rent on a
        # lease of weeks.
        case.refuse("WD_RENT_MONTHS_REQUIRED", f"请填写本次提取的租房月数（最多{due}个月）",
                    max_months=due)
        return case.params.rent_monthly_cap_fen * due
    return case.params.rent_monthly_cap_fen * max(0, min(case.request.rent_months, due))


def _property_fee(case: _Case) -> int | None:
    home = _family_home(case, case.request.cert_no)
    if home is None:
        return None
    # area (dm², i.e. 0.01 m²) × fen per m² per month × 12 months, rounded once.
    cap = round_half_up(home.floor_area_dm2 * case.params.property_fee_cap_fen_per_m2_month * 12,
                        100)
    if case.request.invoice_nos:
        invoices = _named_invoices(case, PROPERTY_FEE, "物业费发票")
        if invoices is None:
            return None
        cap = min(cap, sum(i.amount_fen for i in invoices))
    return cap


def _maintenance_fund(case: _Case) -> int | None:
    r = case.request
    ref = reference_of(r)
    if ref is None:
        case.refuse("WD_DOCUMENT_REQUIRED", "请提供不动产权证书号或购房合同编号",
                    document="property_cert")
        return None
    payments = case.source("maintenance_payments")
    paid: list = []
    if payments is not UNAVAILABLE:
        ids, _ = case.family()
        paid = [m for m in payments if m.payer in ids
                and ((r.cert_no and m.cert_no == r.cert_no)
                     or (not r.cert_no and r.contract_no and m.contract_no == r.contract_no))]
    # One home, two numbers: the family's withdrawals under the certificate or the contract
    # all spend the same deposit, and the withdrawal is stored under the certificate.
    documents = {ref} | {n for m in paid for n in (m.cert_no, m.contract_no) if n}
    certs = sorted({m.cert_no for m in paid if m.cert_no})
    if not r.cert_no and len(certs) == 1:
        case.reference = certs[0]
    if any(p.reference in documents for p in case.own_past("wd.maintenance_fund")):
        case.refuse("WD_TOO_FREQUENT", f"已就{case.reference}办理过{case.kind.name_zh}",
                    next_allowed_on=None, document_no=case.reference)
    if payments is UNAVAILABLE:
        return None
    if not paid:
        case.no_match("maintenance_fund", ref, f"未查询到{ref}对应的住宅专项维修资金缴存信息")
        return None
    used = sum(w.amount_fen for w in case.past
               if w.kind == "wd.maintenance_fund" and w.reference in documents)
    return max(0, sum(m.amount_fen for m in paid) - used)


def _down_payment(case: _Case) -> int | None:
    r = case.request
    if not r.contract_no:
        case.refuse("WD_DOCUMENT_REQUIRED", "请提供购房合同编号", document="purchase_contract")
        return None
    contracts, loans = case.source("contracts"), case.source("loans")
    if contracts is UNAVAILABLE or loans is UNAVAILABLE:
        return None
    ids, _ = case.family()
    c = next((c for c in contracts if c.contract_no == r.contract_no and ids & set(c.buyers)), None)
    if c is None:
        case.no_match("purchase_contract", r.contract_no,
                      f"未查询到本人或配偶的购房合同{r.contract_no}备案信息")
        return None
    loan = next((lo for lo in loans if lo.kind == FUND and lo.house_contract_no == r.contract_no
                 and ids & set(lo.borrowers)), None)
    if loan is None:
        case.no_match("fund_loan", r.contract_no, "未查询到该购房合同对应的住房公积金贷款")
        return None
    deadline = c.signed_on + timedelta(days=case.params.down_payment_window_days)
    if case.today > deadline:
        case.refuse("WD_PURCHASE_TOO_OLD", f"首付款提取须在首付款凭证有效期内申请（截止{deadline}）",
                    bought_on=c.signed_on, deadline=deadline)
    down = c.price_fen - loan.principal_fen
    used_down = sum(w.amount_fen for w in case.family_past(("wd.down_payment",), r.contract_no))
    used_all = sum(w.amount_fen for w in case.family_past(("wd.purchase", "wd.down_payment"),
                                                           r.contract_no))
    # The price caps purchase and down payment withdrawals together.
    return max(0, min(down - used_down, c.price_fen - used_all))


def _loan(case: _Case, kind: str, zh: str) -> HousingLoan | None:
    r = case.request
    if not r.loan_contract_no:
        case.refuse("WD_DOCUMENT_REQUIRED", "请提供贷款合同编号", document="loan_contract")
        return None
    loans = case.source("loans")
    if loans is UNAVAILABLE:
        return None
    ids, _ = case.family()
    loan = next((lo for lo in loans if lo.kind == kind and lo.contract_no == r.loan_contract_no
                 and ids & set(lo.borrowers)), None)
    if loan is None:
        case.no_match("loan_contract", r.loan_contract_no,
                      f"未查询到本人或配偶的{zh}合同{r.loan_contract_no}")
        return None
    if loan.outstanding_fen <= 0:
        case.refuse("WD_LOAN_SETTLED", "该笔贷款已结清", document_no=loan.contract_no)
    return loan


def _repay_fund_loan(case: _Case) -> int | None:
    loan = _loan(case, FUND, "住房公积金贷款")
    if loan is None:
        return None
    # The outstanding amount is as of the report: the family's withdrawals for this loan
    # decided since then have not reduced it yet.
    since = loan.reported_on
    paid = sum(w.amount_fen for w in case.family_past(("wd.repay_fund_loan",), loan.contract_no)
               if since is None or w.decided_on >= since)
    return max(0, loan.outstanding_fen - paid)


def _repay_commercial_loan(case: _Case) -> int | None:
    loan = _loan(case, COMMERCIAL, "商业住房贷款")
    if loan is None:
        return None
    # repaid_12m_fen covers the 12 months up to the report: withdrawals decided since that
    # window began were paid against those repayments (or later ones), so they count.
    since = add_months(loan.reported_on or case.today, -12)
    used = sum(w.amount_fen for w in case.family_past(("wd.repay_commercial_loan",),
                                                       loan.contract_no) if w.decided_on > since)
    return max(0, loan.repaid_12m_fen - used)


def _low_income(case: _Case) -> int | None:
    on = case.source("low_income_allowance")
    if on is False:
        case.refuse("WD_NOT_ON_ALLOWANCE", "民政部门未查询到您正在享受城乡最低生活保障")
    return None


def _unemployed(case: _Case) -> int | None:
    on = case.source("unemployment_registered")
    if on is False:
        case.refuse("WD_NOT_UNEMPLOYED", "社保部门未查询到您的失业登记信息")
    return None


def _disability(case: _Case) -> int | None:
    a = case.source("disability")
    if a is UNAVAILABLE:
        return None
    if a is None or not 1 <= a.grade <= case.params.disability_max_grade:
        case.refuse("WD_NO_DATA_MATCH",
                    f"未查询到{case.params.disability_max_grade}级以上（含）伤残的劳动能力鉴定结论",
                    document="disability_assessment", document_no=None)
    return None


def _serious_illness(case: _Case) -> int | None:
    r = case.request
    if not r.illness_record_no:
        case.refuse("WD_DOCUMENT_REQUIRED", "请提供重大疾病诊疗记录编号", document="diagnosis")
        return None
    records = case.source("illnesses")
    if records is UNAVAILABLE:
        return None
    rec = next((x for x in records if x.record_no == r.illness_record_no), None)
    if rec is None or rec.diagnosed_on > case.today:
        case.refuse("WD_NO_DATA_MATCH", f"未查询到重大疾病诊疗记录{r.illness_record_no}",
                    document="diagnosis", document_no=r.illness_record_no)
        return None
    ids, _ = case.family()
    if rec.patient not in ids:
        # Parents and children are family too, but no source shows kinship: a person checks.
        case.review("REVIEW_KINSHIP", "患者不是本人或配偶，需核验亲属关系证明", patient=rec.patient)
    used = sum(w.amount_fen for w in case.family_past(("wd.serious_illness",), rec.record_no))
    return max(0, rec.self_paid_fen - used)


def _retirement(case: _Case) -> int | None:
    m = case.member
    if retirement.has_reached(m.birth_date, m.gender, m.female_group, case.today):
        return None
    if m.retirement_recorded_on is not None and m.retirement_recorded_on <= case.today:
        return None
    ss = case.source("social_security_retired_on")
    if ss is UNAVAILABLE:
        return None
    if ss is not None and ss <= case.today:
        return None
    on = retirement.retirement_date(m.birth_date, m.gender, m.female_group)
    case.refuse("WD_UNDER_RETIREMENT_AGE",
                f"未达到法定退休年龄（{on}达到），且单位和社保均未登记退休",
                retirement_date=on)
    return None


def _hukou_moved(case: _Case, message: str) -> int | None:
    local = case.member.hukou_local
    if local is UNAVAILABLE:
        case.unavailable("hukou_local")
    elif local:
        # The counter holds the originals; a registry that lags is for a person to judge.
        case.review("REVIEW_HUKOU", message)
    return None


def _leave_city(case: _Case) -> int | None:
    return _hukou_moved(case, "户籍信息显示户口仍在本市，需核验户口迁移证明")


def _emigrate(case: _Case) -> int | None:
    return _hukou_moved(case, "户籍信息未显示户口注销，需核验户口注销证明和定居签证")


def _leave_job_nonlocal(case: _Case) -> int | None:
    m, p = case.member, case.params
    if m.hukou_local is UNAVAILABLE:
        case.unavailable("hukou_local")
    elif m.hukou_local:
        case.refuse("WD_NOT_NON_LOCAL", "本市户籍职工不能办理非本市户口离职提取")
    if m.account_status != ACCOUNT_SEALED or m.sealed_since is None:
        case.refuse("WD_NOT_SEALED", "账户未封存，离职后须由单位办理封存", account_status=m.account_status)
    else:
        possible_on = add_months(m.sealed_since, p.non_local_sealed_months)
        if case.today < possible_on:
            case.refuse("WD_SEALED_TOO_SHORT",
                        f"账户封存须满{p.non_local_sealed_months}个月，{possible_on}起可以办理",
                        sealed_since=m.sealed_since, possible_on=possible_on)
    # Seed 002: only a normally depositing employer's leavers are spared the termination proof.
    said = []
    if m.employer_status != EMPLOYER_NORMAL:
        said.append(_EMPLOYER_STATE_ZH.get(m.employer_status, "单位账户状态异常"))
    if m.employer_arrears_months > 0:
        said.append(f"欠缴住房公积金{m.employer_arrears_months}个月")
    if said:
        case.review("REVIEW_EMPLOYER_IRREGULAR",
                    f"单位{'、'.join(said)}，离职提取须提供解除劳动关系证明，转人工审核",
                    employer_status=m.employer_status, arrears_months=m.employer_arrears_months)
        case.materials.append("termination_proof")
    return None


_EMPLOYER_STATE_ZH = {"02": "账户尚在开户中", "03": "账户处于缓缴状态", "04": "账户已销户",
                      "05": "账户已整体封存"}


def _death(case: _Case) -> int | None:
    if not case.member.deceased:
        case.review("REVIEW_DEATH", "公安登记未显示死亡，需核验死亡证明原件")
    return None


RULES: dict[str, Callable[[_Case], int | None]] = {
    "wd.purchase": _purchase, "wd.build": _build, "wd.repair": _repair,
    "wd.renovate": _renovate, "wd.rent": _rent, "wd.property_fee": _property_fee,
    "wd.maintenance_fund": _maintenance_fund, "wd.down_payment": _down_payment,
    "wd.repay_fund_loan": _repay_fund_loan, "wd.repay_commercial_loan": _repay_commercial_loan,
    "wd.low_income": _low_income, "wd.unemployed": _unemployed, "wd.disability": _disability,
    "wd.serious_illness": _serious_illness, "wd.retirement": _retirement,
    "wd.leave_city": _leave_city, "wd.emigrate": _emigrate,
    "wd.leave_job_nonlocal": _leave_job_nonlocal, "wd.death": _death,
}


# ---------------------------------------------------------------- common checks

def _check_account(case: _Case) -> None:
    m, k = case.member, case.kind
    if m.account_status == ACCOUNT_FROZEN:
        case.refuse("WD_ACCOUNT_FROZEN", "账户已冻结，不能办理提取")
    elif m.account_status in ACCOUNT_CLOSED:
        case.refuse("WD_ACCOUNT_CLOSED", "账户已销户，不能办理提取", account_status=m.account_status)
    if m.deceased and k.code != "wd.death":
        case.refuse("WD_MEMBER_DECEASED", "缴存人已死亡，请由继承人到柜台办理死亡提取")
    if m.available_fen <= 0:
        case.refuse("WD_NO_BALANCE", "账户可用余额为零，不能提取")


def _check_applicant(case: _Case) -> None:
    r, k = case.request, case.kind
    if k.code == "wd.death":
        if r.applicant != HEIR:
            case.refuse("WD_APPLICANT_NOT_ALLOWED", "死亡提取须由继承人或受遗赠人办理",
                        applicant=r.applicant)
    elif r.applicant == SPOUSE:
        if not k.spouse_may_apply:
            case.refuse("WD_APPLICANT_NOT_ALLOWED", f"配偶不能代为办理{k.name_zh}",
                        applicant=r.applicant)
            return
        if not r.spouse_authorised:
            case.refuse("WD_SPOUSE_NOT_AUTHORISED", "配偶提取须经账户本人授权")
        spouse = case.evidence.spouse_id_number
        if spouse is UNAVAILABLE:
            case.unavailable("spouse_id_number")
        elif spouse is None or spouse != r.applicant_id_number:
            case.refuse("WD_NO_DATA_MATCH", "婚姻登记信息中申请人不是账户本人的配偶",
                        document="marriage", document_no=None)
    elif r.applicant != MEMBER:
        case.refuse("WD_APPLICANT_NOT_ALLOWED", "只有本人可以办理该项提取", applicant=r.applicant)


def _check_channel(case: _Case) -> None:
    r, k = case.request, case.kind
    if k.mode == COUNTER and not r.at_counter:
        case.refuse("WD_COUNTER_ONLY", f"{k.name_zh}须到服务网点柜台办理")
    elif k.first_at_counter and not r.at_counter:
        ref = case.reference
        earlier = [p for p in case.own_past(k.code) if p.at_counter
                   and (k.code == "wd.rent" or p.reference == ref)]
        if not earlier:
            case.refuse("WD_FIRST_TIME_AT_COUNTER",
                        f"首次办理{k.name_zh}须到柜台办理并留存原件，之后可在线办理")


def _check_frequency(case: _Case) -> None:
    k, t = case.kind, case.today
    ref = case.reference
    next_on: date | None = None
    if k.frequency == ONCE_PER_MONTH:
        if any(month_key(p.decided_on) == month_key(t) for p in case.own_past(k.code)):
            next_on = add_months(t.replace(day=1), 1)
            message = f"{k.name_zh}每月最多办理一次，{next_on}起可以再次办理"
    elif k.frequency == ONCE_PER_YEAR:
        # The property fee is the family's (seed 000 wd-5); the allowance kinds are personal.
        mine = case.past if k.code == "wd.property_fee" else case.own_past(k.code)
        if any(p.kind == k.code and p.decided_on.year == t.year for p in mine):
            next_on = date(t.year + 1, 1, 1)
            message = f"{k.name_zh}每年最多办理一次，{next_on}起可以再次办理"
    elif k.frequency == EVERY_12_MONTHS:
        same = [p for p in case.own_past(k.code) if p.reference == ref]
        if same:
            due = add_months(max(p.decided_on for p in same), 12)
            if t < due:
                next_on = due
                message = f"同一{'住房' if k.code == 'wd.purchase' else '贷款'}每12个月最多提取一次，" \
                          f"{next_on}起可以再次办理"
    elif k.frequency == ONCE_PER_DOCUMENT and k.code in ("wd.down_payment", "wd.serious_illness"):
        # Invoice kinds check each invoice in _named_invoices; the maintenance fund every
        # number of its home in _maintenance_fund.
        if any(p.reference == ref for p in case.own_past(k.code)):
            case.refuse("WD_TOO_FREQUENT", f"已就{ref}办理过{k.name_zh}", next_allowed_on=None,
                        document_no=ref)
        return
    if next_on is not None:
        case.refuse("WD_TOO_FREQUENT", message, next_allowed_on=next_on)


def assess(request: Request, member: MemberFacts, evidence: Evidence,
           past: tuple[PastWithdrawal, ...] | list[PastWithdrawal], params: RuleParams,
           today: date) -> Assessment:
    """Every reason to refuse one application, the amount allowed, the cap and the route."""
    k = KINDS.get(request.kind)
    if k is None:
        return Assessment(request.kind, [Reason("WD_UNKNOWN_KIND", "不支持的提取类型",
                                                {"kind": request.kind})],
                          0, 0, REVIEW_ROUTE, [], False, "99", None)
    case = _Case(request, member, evidence, tuple(past), params, today, k,
                 reference=reference_of(request))
    _check_account(case)
    _check_applicant(case)
    _check_channel(case)
    if request.amount_fen is not None and request.amount_fen <= 0:
        case.refuse("WD_INVALID_AMOUNT", "提取金额必须大于零", amount_fen=request.amount_fen)
    _check_frequency(case)
    cap = RULES[k.code](case)
    # A partial kind whose cap rests on a source that did not answer: the reviewer checks it.
    unknown = [r.details["source"] for r in case.reviews if r.code == "REVIEW_SOURCE_UNAVAILABLE"]
    unknown_cap = cap is None and bool(unknown)
    if (unknown_cap and request.amount_fen is None and not k.closes_account
            and k.code not in BALANCE_IS_THE_CAP):
        zh = "、".join(_SOURCE_ZH.get(s, s) for s in unknown)
        case.refuse("WD_AMOUNT_REQUIRED",
                    f"{zh}信息暂时无法核验，不能确定可提取额度，请填写提取金额，由工作人员审核",
                    sources=unknown)

    available = max(0, member.available_fen)
    amount = request.amount_fen
    if k.closes_account:
        cap = available
        if member.available_fen < member.balance_fen:
            case.refuse("WD_FUNDS_HELD", "账户有处理中的业务占用资金，办结后才能销户提取",
                        balance_fen=member.balance_fen, available_fen=member.available_fen)
        if amount is not None and amount > 0 and amount != available:
            case.refuse("WD_FULL_WITHDRAWAL_ONLY", f"{k.name_zh}须全额提取并销户，可提取{_yuan(available)}",
                        balance_fen=available)
        allowed = available
    else:
        room = max(0, available - params.min_balance_fen)
        if available > 0 and room == 0:
            case.refuse("WD_MIN_BALANCE",
                        f"账户须保留最低余额{_yuan(params.min_balance_fen)}，暂无可提取金额",
                        min_balance_fen=params.min_balance_fen, max_fen=0)
        elif amount is not None and amount > 0:
            if cap is not None and amount > cap:
                case.refuse("WD_CAP_EXCEEDED", f"提取金额超过可提取额度{_yuan(cap)}",
                            cap_fen=cap, max_fen=min(cap, room))
            if amount > available:
                case.refuse("WD_INSUFFICIENT_BALANCE", f"提取金额超过账户可用余额{_yuan(available)}",
                            available_fen=available)
            elif amount > room:
                case.refuse("WD_MIN_BALANCE",
                            f"提取后账户须保留最低余额{_yuan(params.min_balance_fen)}，最多可提取{_yuan(room)}",
                            min_balance_fen=params.min_balance_fen, max_fen=room)
        elif cap is not None and cap <= 0 and not case.refusals:
            case.refuse("WD_CAP_EXCEEDED", "可提取额度已用完", cap_fen=0, max_fen=0)
        limit = room if cap is None else min(cap, room)
        allowed = limit if amount is None else min(amount, limit)
    if unknown_cap and not k.closes_account:
        cap = None

    if k.mode == REVIEW:
        case.review("REVIEW_KIND", f"{k.name_zh}须经人工审核")
    if request.at_counter:
        route = COUNTER_ROUTE
    elif case.reviews:
        route = REVIEW_ROUTE
    else:
        route = AUTO_ROUTE
    return Assessment(k.code, case.refusals, 0 if case.refusals else max(0, allowed), cap, route,
                      case.reviews, k.closes_account, k.reason_code, case.reference,
                      tuple(dict.fromkeys(case.materials)))
