"""Withdrawal rules after the review of round 5: one golden case per defect, worked by hand.

3 the maintenance fund of one home counted under its certificate and its contract alike;
4 an amount the applicant must state when a source cannot give the cap;
5 rent months the applicant must state;
6 non-local leavers of an employer not depositing normally: reviewed, termination proof;
7 the commercial loan cap over the credit report's 12 months;
10 the purchase window in calendar months.
"""

from datetime import date

import pytest
from rules_cases import ME, WIFE, _id, ev, go, member, only

from hpf.withdrawals.facts import (
    UNAVAILABLE,
    Evidence,
    Home,
    HousingLoan,
    IllnessRecord,
    Invoice,
    MaintenancePayment,
    PastWithdrawal,
    PurchaseContract,
    RuleParams,
)
from hpf.withdrawals.kinds import KINDS
from hpf.withdrawals.rules import BALANCE_IS_THE_CAP

# ---------------------------------------------------------------- 3 maintenance fund, one home

# Home H1 is registered under certificate H1 and was bought under contract HT1: the fund
# office's receipt names the address, so gather ties it to both numbers.
PAID = (MaintenancePayment("M1", "H1", "HT1", 800_000, date(2024, 5, 1), ME),)


def test_maintenance_fund_is_stored_under_the_certificate_whichever_number_is_named():
    by_cert = go("wd.maintenance_fund", e=ev(maintenance_payments=PAID), cert_no="H1")
    assert by_cert.ok and by_cert.allowed_fen == 800_000 and by_cert.reference == "H1"
    by_contract = go("wd.maintenance_fund", e=ev(maintenance_payments=PAID), contract_no="HT1")
    # 8,000.00 yuan paid; the withdrawal is recorded under the home's certificate.
    assert by_contract.ok and by_contract.allowed_fen == 800_000 and by_contract.reference == "H1"


def test_maintenance_fund_withdrawn_by_certificate_is_not_paid_again_by_contract():
    past = (PastWithdrawal("wd.maintenance_fund", 800_000, date(2026, 6, 1), "H1"),)
    r = only(go("wd.maintenance_fund", e=ev(maintenance_payments=PAID), past=past,
                contract_no="HT1"), "WD_TOO_FREQUENT")
    assert r.message == "已就H1办理过住宅专项维修资金提取"


def test_maintenance_fund_the_spouse_took_under_the_contract_counts_for_the_certificate():
    # The spouse withdrew 8,000.00 under HT1 (before the home was registered): 0 left.
    past = (PastWithdrawal("wd.maintenance_fund", 800_000, date(2024, 6, 1), "HT1", "spouse"),)
    r = only(go("wd.maintenance_fund", e=ev(maintenance_payments=PAID), past=past,
                cert_no="H1"), "WD_CAP_EXCEEDED")
    assert r.message == "可提取额度已用完"
    # 3,000.00 of it: 5,000.00 left.
    part = (PastWithdrawal("wd.maintenance_fund", 300_000, date(2024, 6, 1), "HT1", "spouse"),)
    a = go("wd.maintenance_fund", e=ev(maintenance_payments=PAID), past=part, cert_no="H1")
    assert a.ok and a.cap_fen == 500_000 and a.allowed_fen == 500_000


# ---------------------------------------------------------------- 4 the cap a source cannot give

HOME = Home("H1", 8957, date(2015, 1, 1), (ME, WIFE))


def test_property_fee_with_the_registry_down_needs_the_amount():
    # Balance 100,000.00 yuan: the rules used to reserve 99,990.00 though the cap is 2,149.68.
    r = only(go("wd.property_fee", e=ev(homes=UNAVAILABLE), cert_no="H1"), "WD_AMOUNT_REQUIRED")
    assert r.message == "不动产登记信息暂时无法核验，不能确定可提取额度，请填写提取金额，由工作人员审核"
    assert r.details == {"sources": ["homes"]}
    a = go("wd.property_fee", e=ev(homes=UNAVAILABLE), cert_no="H1", amount_fen=214_968)
    assert a.ok and a.route == "review" and a.cap_fen is None and a.allowed_fen == 214_968


def test_every_document_capped_kind_needs_the_amount_when_its_source_is_down():
    down = Evidence(spouse_id_number=WIFE, low_income_allowance=True,
                    unemployment_registered=True)
    docs = dict(contract_no="HT", cert_no="H1", invoice_nos=("F1",), loan_contract_no="L",
                illness_record_no="ZB", at_counter=True)
    partial = [c for c, k in KINDS.items() if not k.closes_account]
    for code in partial:
        a = go(code, e=down, rent_months=1, **docs)
        if code in BALANCE_IS_THE_CAP or code == "wd.rent":
            # The balance is the cap by rule; rent's cap is months × the monthly cap.
            assert "WD_AMOUNT_REQUIRED" not in a.codes, code
        else:
            assert "WD_AMOUNT_REQUIRED" in a.codes, code
            assert go(code, e=down, amount_fen=100_000, **docs).allowed_fen == 100_000, code
    assert {"wd.low_income", "wd.unemployed"} == BALANCE_IS_THE_CAP


def test_a_closing_kind_with_a_source_down_needs_no_amount():
    m = member(birth_date=date(1965, 1, 10), id_number=_id("11010519650110003"))
    a = go("wd.retirement", m=m, today=date(2025, 2, 1),
           e=ev(social_security_retired_on=UNAVAILABLE))
    assert a.ok and a.route == "review" and a.allowed_fen == 10_000_000


def test_amount_required_when_the_marriage_record_leaves_the_document_unconfirmed():
    # The illness record names someone else and the marriage record is down: the cap rests on
    # a record the sources could not tie to the family.
    rec = IllnessRecord("ZB-1", WIFE, date(2026, 4, 1), 4_567_890)
    a = go("wd.serious_illness", e=ev(illnesses=(rec,)), illness_record_no="ZB-1")
    assert a.ok and a.cap_fen == 4_567_890  # answered: no amount needed
    c = PurchaseContract("HT9", (WIFE,), 9_000_000, date(2026, 1, 1))
    r = only(go("wd.purchase", e=ev(contracts=(c,), spouse_id_number=UNAVAILABLE),
                contract_no="HT9", at_counter=True), "WD_AMOUNT_REQUIRED")
    assert r.details == {"sources": ["spouse_id_number"]}


# ---------------------------------------------------------------- 5 rent months stated

RENT_FIRST = (PastWithdrawal("wd.rent", 150_000, date(2026, 3, 15), None, "member", True),)


def test_rent_months_must_be_stated():
    r = only(go("wd.rent", past=RENT_FIRST), "WD_RENT_MONTHS_REQUIRED")
    assert r.message == "请填写本次提取的租房月数（最多3个月）"
    assert r.details == {"max_months": 3}
    r = only(go("wd.rent", at_counter=True), "WD_RENT_MONTHS_REQUIRED")
    assert r.message == "请填写本次提取的租房月数（最多12个月）"


def test_a_first_rent_withdrawal_pays_the_months_stated():
    # A tenancy of 2 months: 2 × 1,500.00 = 3,000.00 yuan, not 12 months' 18,000.00.
    a = go("wd.rent", at_counter=True, rent_months=2)
    assert a.ok and a.cap_fen == 300_000 and a.allowed_fen == 300_000
    # Still capped by the arrears maximum: 15 months claimed, 12 paid (18,000.00).
    assert go("wd.rent", at_counter=True, rent_months=15).allowed_fen == 1_800_000


# ---------------------------------------------------------------- 6 irregular employer

NONLOCAL = dict(hukou_local=False, account_status="02", sealed_since=date(2025, 12, 10))


@pytest.mark.parametrize(("status", "arrears", "said"), [
    ("03", 0, "单位账户处于缓缴状态"),
    ("05", 0, "单位账户已整体封存"),
    ("01", 4, "单位欠缴住房公积金4个月"),
    ("05", 2, "单位账户已整体封存、欠缴住房公积金2个月"),
])
def test_non_local_leaver_of_an_irregular_employer_is_reviewed_with_the_termination_proof(
        status, arrears, said):
    m = member(**NONLOCAL, employer_status=status, employer_arrears_months=arrears)
    a = go("wd.leave_job_nonlocal", m=m)
    assert a.ok and a.route == "review" and a.allowed_fen == 10_000_000
    (r,) = a.review_reasons
    assert r.code == "REVIEW_EMPLOYER_IRREGULAR"
    assert r.message == f"{said}，离职提取须提供解除劳动关系证明，转人工审核"
    assert r.details == {"employer_status": status, "arrears_months": arrears}
    assert a.materials_required == ("termination_proof",)
    assert "termination_proof" in {x.code for x in KINDS["wd.leave_job_nonlocal"].materials}


def test_non_local_leaver_of_a_normal_employer_is_automatic_without_the_proof():
    a = go("wd.leave_job_nonlocal", m=member(**NONLOCAL, employer_status="01"))
    assert a.ok and a.route == "auto" and not a.review_reasons and a.materials_required == ()


# ---------------------------------------------------------------- 7 commercial loan window

def test_commercial_loan_counts_withdrawals_over_the_reports_twelve_months():
    # Report of 2026-01-01: 15,600.00 repaid in 2025. The member withdrew 15,600.00 on
    # 2025-05-01, inside the report's 12 months: nothing is left on 2026-05-02.
    loan = HousingLoan("commercial", "SD", (ME,), 100_000_000, 80_000_000, 1_560_000,
                       reported_on=date(2026, 1, 1))
    past = (PastWithdrawal("wd.repay_commercial_loan", 1_560_000, date(2025, 5, 1), "SD",
                           "member", True),)
    r = only(go("wd.repay_commercial_loan", e=ev(loans=(loan,)), past=past,
                loan_contract_no="SD", today=date(2026, 5, 2)), "WD_CAP_EXCEEDED")
    assert r.details == {"cap_fen": 0, "max_fen": 0}
    # A withdrawal of 2024-12-31 lies before the report's window (after 2025-01-01): counted
    # against the earlier report, so 15,600.00 is open again.
    older = (PastWithdrawal("wd.repay_commercial_loan", 1_560_000, date(2024, 12, 31), "SD",
                            "member", True),)
    a = go("wd.repay_commercial_loan", e=ev(loans=(loan,)), past=older, loan_contract_no="SD",
           today=date(2026, 5, 2))
    assert a.ok and a.cap_fen == 1_560_000


def test_commercial_loan_without_a_report_date_counts_the_last_twelve_months():
    loan = HousingLoan("commercial", "SD", (ME,), 100_000_000, 80_000_000, 1_560_000)
    past = (PastWithdrawal("wd.repay_commercial_loan", 100_000, date(2024, 1, 5), "SD",
                           "member", True),
            PastWithdrawal("wd.repay_commercial_loan", 200_000, date(2025, 6, 10), "SD", "spouse"),
            PastWithdrawal("wd.repay_commercial_loan", 600_000, date(2025, 6, 11), "SD", "spouse"))
    # 2026-06-10 − 12 months = 2025-06-10: only the spouse's 6,000.00 of 2025-06-11 is after
    # it, so 15,600.00 − 6,000.00 = 9,600.00 is left.
    a = go("wd.repay_commercial_loan", e=ev(loans=(loan,)), past=past, loan_contract_no="SD")
    assert a.ok and a.cap_fen == 960_000


# ---------------------------------------------------------------- 10 purchase window in months

def test_purchase_within_24_calendar_months_across_a_leap_day():
    c = PurchaseContract("HT23", (ME,), 9_000_000, date(2023, 3, 15))
    past = (PastWithdrawal("wd.purchase", 100_000, date(2023, 4, 1), "HT23", "member", True),)
    # 2023-03-15 + 24 months = 2025-03-15 (730 days would end on 2025-03-14: 2024 is leap).
    a = go("wd.purchase", e=ev(contracts=(c,)), past=past, contract_no="HT23",
           today=date(2025, 3, 15))
    assert a.ok and a.cap_fen == 8_900_000
    r = only(go("wd.purchase", e=ev(contracts=(c,)), past=past, contract_no="HT23",
                today=date(2025, 3, 16)), "WD_PURCHASE_TOO_OLD")
    assert r.message == "购房提取须在购房之日起24个月内申请（截止2025-03-15）"
    assert r.details == {"bought_on": date(2023, 3, 15), "deadline": date(2025, 3, 15)}


def test_purchase_window_parameter_in_months_clamps_to_the_months_end():
    c = PurchaseContract("HT31", (ME,), 9_000_000, date(2024, 8, 31))
    six = RuleParams(purchase_window_months=6)
    # 2024-08-31 + 6 months = 2025-02-28.
    assert go("wd.purchase", e=ev(contracts=(c,)), contract_no="HT31", params=six,
              at_counter=True, today=date(2025, 2, 28)).ok
    r = only(go("wd.purchase", e=ev(contracts=(c,)), contract_no="HT31", params=six,
                at_counter=True, today=date(2025, 3, 1)), "WD_PURCHASE_TOO_OLD")
    assert r.details["deadline"] == date(2025, 2, 28)


def test_purchase_by_certificate_within_24_months_of_the_registration():
    # Registered 2023-06-01: 24 months end on 2025-06-01; 730 days ended on 2025-05-31.
    home = Home("C1", 8957, date(2023, 6, 1), (ME,))
    inv = Invoice("FP", "house_sale", 50_000_000, date(2023, 5, 20), ME)
    a = go("wd.purchase", e=ev(homes=(home,), invoices=(inv,)), at_counter=True, cert_no="C1",
           invoice_nos=("FP",), today=date(2025, 6, 1))
    assert a.ok and a.cap_fen == 50_000_000
    assert only(go("wd.purchase", e=ev(homes=(home,), invoices=(inv,)), at_counter=True,
                   cert_no="C1", invoice_nos=("FP",), today=date(2025, 6, 2)),
                "WD_PURCHASE_TOO_OLD").details["deadline"] == date(2025, 6, 1)
