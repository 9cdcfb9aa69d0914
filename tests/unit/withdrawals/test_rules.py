"""Withdrawal rules (domain-rules §5): for each kind an eligible case with the amount worked
out by hand, each refusal with its code and message, and properties of the amount."""

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rules_cases import ME, STRANGER, TODAY, WIFE, P, _id, ev, go, member, only

from hpf.withdrawals.facts import (
    UNAVAILABLE,
    DisabilityAssessment,
    Evidence,
    Home,
    HousingLoan,
    IllnessRecord,
    Invoice,
    MaintenancePayment,
    PastWithdrawal,
    PurchaseContract,
    Request,
)
from hpf.withdrawals.kinds import KINDS
from hpf.withdrawals.rules import SOURCES, add_months, assess, reference_of


def counter_first(kind: str, ref: str | None, on: date = date(2025, 1, 5)) -> PastWithdrawal:
    return PastWithdrawal(kind, 100_000, on, ref, "member", True)


# ---------------------------------------------------------------- purchase (购房)

C1 = PurchaseContract("HT2025-001", (ME, WIFE), 9_000_000, date(2025, 9, 1))
PAST_C1 = (PastWithdrawal("wd.purchase", 5_000_000, date(2025, 10, 1), "HT2025-001", "member", True),
           PastWithdrawal("wd.purchase", 3_000_000, date(2025, 10, 5), "HT2025-001", "spouse"))


def test_purchase_later_withdrawal_online_up_to_the_price_left():
    # price 90,000.00 − member 50,000.00 − spouse 30,000.00 = 10,000.00 yuan left.
    a = go("wd.purchase", e=ev(contracts=(C1,)), past=PAST_C1, today=date(2026, 11, 1),
           contract_no="HT2025-001")
    assert a.ok and a.cap_fen == 1_000_000 and a.allowed_fen == 1_000_000
    assert a.route == "auto" and a.reference == "HT2025-001" and a.reason_code == "01"
    assert not a.closes_account


def test_purchase_cap_exceeded():
    a = go("wd.purchase", e=ev(contracts=(C1,)), past=PAST_C1, today=date(2026, 11, 1),
           contract_no="HT2025-001", amount_fen=1_000_001)
    r = only(a, "WD_CAP_EXCEEDED")
    assert r.message == "提取金额超过可提取额度10000.00元"
    assert r.details == {"cap_fen": 1_000_000, "max_fen": 1_000_000}


def test_purchase_by_certificate_and_sale_invoice_at_the_counter():
    home = Home("京(2026)不动产权第0001号", 8957, date(2026, 1, 10), (ME,))
    inv = Invoice("FP-01", "house_sale", 80_000_000, date(2026, 1, 5), ME)
    a = go("wd.purchase", e=ev(homes=(home,), invoices=(inv,)), at_counter=True,
           cert_no=home.cert_no, invoice_nos=("FP-01",))
    # cap = the invoiced price 800,000.00; allowed = available 100,000.00 − 10.00 minimum.
    assert a.ok and a.cap_fen == 80_000_000 and a.allowed_fen == 9_999_000
    assert a.route == "counter"


def test_purchase_too_old():
    # 24 months after 2025-09-01 is 2027-09-01; the next day is too late.
    a = go("wd.purchase", e=ev(contracts=(C1,)), past=PAST_C1, today=date(2027, 9, 2),
           contract_no="HT2025-001")
    r = only(a, "WD_PURCHASE_TOO_OLD")
    assert r.message == "购房提取须在购房之日起24个月内申请（截止2027-09-01）"
    assert r.details["deadline"] == date(2027, 9, 1)
    assert go("wd.purchase", e=ev(contracts=(C1,)), past=PAST_C1, today=date(2027, 9, 1),
              contract_no="HT2025-001").ok


def test_purchase_no_data_match():
    a = go("wd.purchase", e=ev(contracts=(C1,)), at_counter=True, contract_no="HT-NONE")
    r = only(a, "WD_NO_DATA_MATCH")
    assert r.message == "未查询到本人或配偶的购房合同HT-NONE备案信息"
    assert r.details == {"document": "purchase_contract", "document_no": "HT-NONE"}
    # A contract of someone else's is no match either.
    other = replace(C1, buyers=(STRANGER,))
    assert go("wd.purchase", e=ev(contracts=(other,)), at_counter=True,
              contract_no="HT2025-001").codes == ["WD_NO_DATA_MATCH"]


def test_purchase_needs_a_document():
    r = only(go("wd.purchase", at_counter=True), "WD_DOCUMENT_REQUIRED")
    assert r.message == "请提供购房合同编号或不动产权证书号"


def test_purchase_first_time_at_the_counter():
    a = go("wd.purchase", e=ev(contracts=(C1,)), contract_no="HT2025-001")
    r = only(a, "WD_FIRST_TIME_AT_COUNTER")
    assert r.message == "首次办理购买自住住房提取须到柜台办理并留存原件，之后可在线办理"
    # The spouse's counter visit does not hold the member's originals.
    assert go("wd.purchase", e=ev(contracts=(C1,)), past=PAST_C1[1:],
              contract_no="HT2025-001").codes == ["WD_FIRST_TIME_AT_COUNTER"]


def test_purchase_twelve_months_apart():
    past = (counter_first("wd.purchase", "HT2025-001", date(2026, 2, 1)),)
    a = go("wd.purchase", e=ev(contracts=(C1,)), past=past, today=date(2026, 11, 1),
           contract_no="HT2025-001")
    r = only(a, "WD_TOO_FREQUENT")
    assert r.message == "同一住房每12个月最多提取一次，2027-02-01起可以再次办理"
    assert r.details == {"next_allowed_on": date(2027, 2, 1)}


def test_purchase_by_the_spouse_needs_authorisation_and_the_marriage():
    common = dict(e=ev(contracts=(C1,)), at_counter=True, contract_no="HT2025-001",
                  applicant="spouse", applicant_id_number=WIFE)
    a = go("wd.purchase", spouse_authorised=True, **common)
    assert a.ok and a.allowed_fen == 9_000_000  # price 90,000.00, nothing withdrawn yet
    r = only(go("wd.purchase", **common), "WD_SPOUSE_NOT_AUTHORISED")
    assert r.message == "配偶提取须经账户本人授权"
    common["applicant_id_number"] = STRANGER
    r = only(go("wd.purchase", spouse_authorised=True, **common), "WD_NO_DATA_MATCH")
    assert r.message == "婚姻登记信息中申请人不是账户本人的配偶"
    assert r.details["document"] == "marriage"


def test_purchase_with_the_registry_down_goes_to_review_never_auto():
    a = go("wd.purchase", e=ev(contracts=UNAVAILABLE), past=PAST_C1, today=date(2026, 11, 1),
           contract_no="HT2025-001", amount_fen=2_000_000)
    assert a.ok and a.route == "review" and a.cap_fen is None
    assert a.allowed_fen == 2_000_000  # bounded by the balance only; the reviewer checks the price
    (r,) = a.review_reasons
    assert r.code == "REVIEW_SOURCE_UNAVAILABLE"
    assert r.message == "房屋交易合同备案信息暂时无法查询，转人工审核"


# ---------------------------------------------------------------- build, repair, renovate

def test_build_at_the_counter_up_to_the_construction_cost():
    invs = (Invoice("B1", "construction", 30_000_000, date(2026, 3, 1), ME),
            Invoice("B2", "construction", 15_000_000, date(2026, 4, 1), WIFE))
    a = go("wd.build", e=ev(invoices=invs), at_counter=True, invoice_nos=("B2", "B1"),
           amount_fen=9_000_000)
    # cap 300,000.00 + 150,000.00 = 450,000.00; asked 90,000.00.
    assert a.ok and a.cap_fen == 45_000_000 and a.allowed_fen == 9_000_000
    assert a.route == "counter" and a.reference == "B1,B2" and a.reason_code == "02"


def test_build_online_is_refused_and_a_used_invoice_is_spent():
    invs = (Invoice("B1", "construction", 30_000_000, date(2026, 3, 1), ME),)
    r = only(go("wd.build", e=ev(invoices=invs), invoice_nos=("B1",)), "WD_COUNTER_ONLY")
    assert r.message == "建造和翻建自住住房提取须到服务网点柜台办理"
    past = (PastWithdrawal("wd.build", 1_000_000, date(2026, 3, 5), "B1,B3", "spouse", True),)
    r = only(go("wd.build", e=ev(invoices=invs), past=past, at_counter=True, invoice_nos=("B1",)),
             "WD_TOO_FREQUENT")
    assert r.message == "发票B1已办理过提取"


def test_repair_up_to_the_invoice():
    home = Home("H1", 9000, date(2010, 5, 1), (ME,))
    inv = Invoice("R1", "repair", 2_345_678, date(2026, 5, 1), ME)
    a = go("wd.repair", e=ev(homes=(home,), invoices=(inv,)), at_counter=True, cert_no="H1",
           invoice_nos=("R1",))
    assert a.ok and a.cap_fen == 2_345_678 and a.allowed_fen == 2_345_678


def test_repair_of_a_home_not_ours():
    home = Home("H1", 9000, date(2010, 5, 1), (STRANGER,))
    inv = Invoice("R1", "repair", 2_345_678, date(2026, 5, 1), ME)
    r = only(go("wd.repair", e=ev(homes=(home,), invoices=(inv,)), at_counter=True, cert_no="H1",
                invoice_nos=("R1",)), "WD_NO_DATA_MATCH")
    assert r.message == "不动产登记中未查询到本人或配偶名下的不动产权证书H1"


def test_renovate_reviewed_and_at_most_the_invoice():
    home = Home("H1", 9000, date(2010, 5, 1), (WIFE,))
    inv = Invoice("RN1", "renovation", 876_543, date(2026, 3, 1), WIFE)
    a = go("wd.renovate", e=ev(homes=(home,), invoices=(inv,)), cert_no="H1", invoice_nos=("RN1",))
    assert a.ok and a.allowed_fen == 876_543 and a.cap_fen == 876_543
    assert a.route == "review"
    assert [r.code for r in a.review_reasons] == ["REVIEW_KIND"]
    assert a.review_reasons[0].message == "装修自住住房提取须经人工审核"


def test_renovate_refusals():
    home = Home("H1", 9000, date(2010, 5, 1), (ME,))
    old = Invoice("RN0", "renovation", 500_000, date(2025, 6, 9), ME)  # 366 days before today
    r = only(go("wd.renovate", e=ev(homes=(home,), invoices=(old,)), cert_no="H1",
                invoice_nos=("RN0",)), "WD_INVOICE_TOO_OLD")
    assert r.message == "装修发票RN0开具已超过365天"
    assert go("wd.renovate", e=ev(homes=(home,), invoices=(replace(old, issued_on=date(2025, 6, 10)),)),
              cert_no="H1", invoice_nos=("RN0",)).ok
    theirs = Invoice("RN2", "renovation", 500_000, date(2026, 1, 1), STRANGER)
    r = only(go("wd.renovate", e=ev(homes=(home,), invoices=(theirs,)), cert_no="H1",
                invoice_nos=("RN2",)), "WD_NO_DATA_MATCH")
    assert r.message == "未查询到装修发票RN2的税务信息，或付款人不是本人或配偶"
    r = only(go("wd.renovate", e=ev(homes=(home,)), cert_no="H1"), "WD_DOCUMENT_REQUIRED")
    assert r.message == "请提供装修发票号码"


# ---------------------------------------------------------------- rent (租房)

RENT_COUNTER = (counter_first("wd.rent", None, date(2026, 3, 15)),)


def test_rent_months_in_arrears_times_the_monthly_cap():
    # Last rent withdrawal in March; now June: April, May, June = 3 × 1,500.00 = 4,500.00 yuan.
    a = go("wd.rent", past=RENT_COUNTER, rent_months=3)
    assert a.ok and a.cap_fen == 450_000 and a.allowed_fen == 450_000 and a.route == "auto"
    assert a.reason_code == "07"
    assert go("wd.rent", past=RENT_COUNTER, rent_months=2).allowed_fen == 300_000
    # More months claimed than are due: the 3 due are paid.
    assert go("wd.rent", past=RENT_COUNTER, rent_months=5).allowed_fen == 450_000
    # The first one, at the counter, may claim 12 months: 18,000.00 yuan.
    first = go("wd.rent", at_counter=True, rent_months=12)
    assert first.ok and first.allowed_fen == 1_800_000


def test_rent_arrears_reach_back_no_further_than_a_first_claim():
    # Last rent withdrawal three years ago: 12 months at most (18,000.00), not 36.
    past = (PastWithdrawal("wd.rent", 150_000, date(2023, 6, 5), at_counter=True),)
    a = go("wd.rent", past=past, rent_months=36)
    assert a.ok and a.cap_fen == 1_800_000


def test_rent_cap_exceeded():
    r = only(go("wd.rent", past=RENT_COUNTER, rent_months=3, amount_fen=450_001),
             "WD_CAP_EXCEEDED")
    assert r.message == "提取金额超过可提取额度4500.00元"
    assert r.details["cap_fen"] == 450_000


def test_rent_refused_to_home_owners_including_the_spouse():
    for owners in ((ME,), (WIFE,)):
        home = Home("H9", 6000, date(2020, 1, 1), owners)
        r = only(go("wd.rent", e=ev(homes=(home,)), past=RENT_COUNTER), "WD_OWNS_HOME")
        assert r.message == "本人或配偶在本市有自有住房，不能办理租房提取"
        assert r.details == {"cert_nos": ["H9"]}


def test_rent_at_most_monthly():
    past = RENT_COUNTER + (PastWithdrawal("wd.rent", 150_000, date(2026, 6, 1)),)
    r = only(go("wd.rent", past=past), "WD_TOO_FREQUENT")
    assert r.message == "租房提取每月最多办理一次，2026-07-01起可以再次办理"
    assert r.details == {"next_allowed_on": date(2026, 7, 1)}


def test_rent_first_time_at_the_counter():
    r = only(go("wd.rent"), "WD_FIRST_TIME_AT_COUNTER")
    assert r.message == "首次办理租房提取须到柜台办理并留存原件，之后可在线办理"


def test_rent_with_the_registry_or_the_marriage_record_down_is_reviewed():
    # The cap (months × the monthly cap) needs no source: no amount has to be stated.
    a = go("wd.rent", e=ev(homes=UNAVAILABLE), past=RENT_COUNTER, rent_months=3)
    assert a.ok and a.route == "review" and a.allowed_fen == 450_000
    assert a.review_reasons[0].details == {"source": "homes"}
    a = go("wd.rent", e=ev(spouse_id_number=UNAVAILABLE), past=RENT_COUNTER, rent_months=3)
    assert a.ok and a.route == "review"
    assert a.review_reasons[0].message == "民政婚姻登记信息暂时无法查询，转人工审核"


# ---------------------------------------------------------------- property fee (物业费)

HOME = Home("H1", 8957, date(2015, 1, 1), (ME, WIFE))  # 89.57 m²


def test_property_fee_area_times_rate_times_twelve():
    # 89.57 m² × 2.00 yuan × 12 = 2,149.68 yuan.
    a = go("wd.property_fee", e=ev(homes=(HOME,)), cert_no="H1")
    assert a.ok and a.cap_fen == 214_968 and a.allowed_fen == 214_968 and a.route == "auto"
    # 89.57 × 2.15 × 12 = 2,310.906 yuan → 2,310.91, rounded half-up once.
    a = go("wd.property_fee", e=ev(homes=(HOME,)),
           params=replace(P, property_fee_cap_fen_per_m2_month=215))
    assert a.cap_fen == 231_091  # the only home is taken when none is named
    # A named property-fee invoice lowers the cap to what was paid.
    inv = Invoice("WY1", "property_fee", 120_000, date(2026, 1, 1), WIFE)
    a = go("wd.property_fee", e=ev(homes=(HOME,), invoices=(inv,)), cert_no="H1",
           invoice_nos=("WY1",))
    assert a.ok and a.cap_fen == 120_000


def test_property_fee_once_a_year_for_the_family():
    past = (PastWithdrawal("wd.property_fee", 200_000, date(2026, 1, 5), "H1", "spouse"),)
    r = only(go("wd.property_fee", e=ev(homes=(HOME,)), past=past, cert_no="H1"),
             "WD_TOO_FREQUENT")
    assert r.message == "物业费提取每年最多办理一次，2027-01-01起可以再次办理"
    last_year = (replace(past[0], decided_on=date(2025, 12, 31)),)
    assert go("wd.property_fee", e=ev(homes=(HOME,)), past=last_year, cert_no="H1").ok


def test_property_fee_invoice_backs_one_withdrawal_only():
    # Invoice WY1 paid for last year's withdrawal; named again this year it is refused.
    inv = Invoice("WY1", "property_fee", 120_000, date(2025, 12, 1), WIFE)
    first = go("wd.property_fee", e=ev(homes=(HOME,), invoices=(inv,)), cert_no="H1",
               invoice_nos=("WY1",), today=date(2025, 12, 28))
    assert first.ok and first.reference == "WY1"
    past = (PastWithdrawal("wd.property_fee", 120_000, date(2025, 12, 28), first.reference),)
    r = only(go("wd.property_fee", e=ev(homes=(HOME,), invoices=(inv,)), past=past,
                cert_no="H1", invoice_nos=("WY1",)), "WD_TOO_FREQUENT")
    assert r.message == "发票WY1已办理过提取"


def test_property_fee_of_an_unknown_home():
    r = only(go("wd.property_fee", e=ev(homes=(HOME,)), cert_no="H2"), "WD_NO_DATA_MATCH")
    assert r.details == {"document": "property_cert", "document_no": "H2"}


# ---------------------------------------------------------------- maintenance fund

def test_maintenance_fund_up_to_the_deposit_left():
    pays = (MaintenancePayment("M1", "H1", None, 800_000, date(2024, 5, 1), ME),
            MaintenancePayment("M2", "H1", None, 234_567, date(2024, 6, 1), WIFE),
            MaintenancePayment("M3", "H2", None, 999_999, date(2024, 6, 1), ME))
    past = (PastWithdrawal("wd.maintenance_fund", 34_567, date(2025, 1, 1), "H1", "spouse"),)
    # 8,000.00 + 2,345.67 − 345.67 withdrawn by the spouse = 10,000.00 yuan.
    a = go("wd.maintenance_fund", e=ev(maintenance_payments=pays), past=past, cert_no="H1")
    assert a.ok and a.cap_fen == 1_000_000 and a.allowed_fen == 1_000_000


def test_maintenance_fund_refusals():
    r = only(go("wd.maintenance_fund", e=ev(maintenance_payments=()), cert_no="H1"),
             "WD_NO_DATA_MATCH")
    assert r.message == "未查询到H1对应的住宅专项维修资金缴存信息"
    pays = (MaintenancePayment("M1", "H1", None, 800_000, date(2024, 5, 1), ME),)
    past = (PastWithdrawal("wd.maintenance_fund", 100, date(2025, 1, 1), "H1"),)
    r = only(go("wd.maintenance_fund", e=ev(maintenance_payments=pays), past=past, cert_no="H1"),
             "WD_TOO_FREQUENT")
    assert r.message == "已就H1办理过住宅专项维修资金提取"


# ---------------------------------------------------------------- down payment (首付)

C2 = PurchaseContract("HT2026-009", (ME,), 120_000_000, date(2026, 5, 1))
L2 = HousingLoan("fund", "GJJ-2026-1", (ME,), 84_000_000, 84_000_000, 0, "HT2026-009")


def test_down_payment_is_price_minus_the_fund_loan():
    past = (PastWithdrawal("wd.down_payment", 30_000_000, date(2026, 5, 20), "HT2026-009", "spouse"),)
    # 1,200,000.00 − 840,000.00 loan = 360,000.00 down; the spouse took 300,000.00 → 60,000.00.
    a = go("wd.down_payment", e=ev(contracts=(C2,), loans=(L2,)), past=past,
           contract_no="HT2026-009")
    assert a.ok and a.cap_fen == 6_000_000 and a.allowed_fen == 6_000_000 and a.reason_code == "01"


def test_down_payment_refusals():
    r = only(go("wd.down_payment", e=ev(contracts=(C2,), loans=()), contract_no="HT2026-009"),
             "WD_NO_DATA_MATCH")
    assert r.message == "未查询到该购房合同对应的住房公积金贷款"
    assert r.details["document"] == "fund_loan"
    past = (PastWithdrawal("wd.down_payment", 100_000, date(2026, 5, 20), "HT2026-009"),)
    r = only(go("wd.down_payment", e=ev(contracts=(C2,), loans=(L2,)), past=past,
                contract_no="HT2026-009"), "WD_TOO_FREQUENT")
    assert r.details["next_allowed_on"] is None
    r = only(go("wd.down_payment", e=ev(contracts=(C2,), loans=(L2,)), contract_no="HT2026-009",
                today=date(2027, 5, 2)), "WD_PURCHASE_TOO_OLD")
    assert r.details["deadline"] == date(2027, 5, 1)


# ---------------------------------------------------------------- loan repayment

L1 = HousingLoan("fund", "2014年委农字17609号", (ME,), 24_000_000, 5_862_415, 1_560_000,
                 reported_on=date(2026, 6, 1))
CL1 = HousingLoan("commercial", "SD-88", (WIFE, ME), 100_000_000, 80_000_000, 1_560_000)


def test_repay_fund_loan_up_to_the_outstanding_principal():
    past = (counter_first("wd.repay_fund_loan", L1.contract_no, date(2025, 5, 1)),)
    # Outstanding 58,624.15 yuan (seed 003), the balance 100,000.00 covers it.
    a = go("wd.repay_fund_loan", e=ev(loans=(L1,)), past=past, loan_contract_no=L1.contract_no)
    assert a.ok and a.cap_fen == 5_862_415 and a.allowed_fen == 5_862_415
    # With 30,000.00 available, 29,990.00 may go (10.00 stays).
    a = go("wd.repay_fund_loan", m=member(balance_fen=3_000_000, available_fen=3_000_000),
           e=ev(loans=(L1,)), past=past, loan_contract_no=L1.contract_no)
    assert a.allowed_fen == 2_999_000


def test_repay_fund_loan_counts_the_familys_withdrawals_since_the_report():
    # Reported 58,624.15 outstanding on 1 June; the spouse withdrew 50,000.00 for the same
    # loan on 5 June (not yet in the report): 8,624.15 is left, not 58,624.15 again.
    past = (counter_first("wd.repay_fund_loan", L1.contract_no, date(2025, 5, 1)),
            PastWithdrawal("wd.repay_fund_loan", 5_000_000, date(2026, 6, 5), L1.contract_no,
                           "spouse"))
    a = go("wd.repay_fund_loan", e=ev(loans=(L1,)), past=past, loan_contract_no=L1.contract_no)
    assert a.ok and a.cap_fen == 862_415 and a.allowed_fen == 862_415


def test_repay_fund_loan_refusals():
    past = (counter_first("wd.repay_fund_loan", L1.contract_no, date(2025, 5, 1)),)
    settled = replace(L1, outstanding_fen=0)
    r = only(go("wd.repay_fund_loan", e=ev(loans=(settled,)), past=past,
                loan_contract_no=L1.contract_no), "WD_LOAN_SETTLED")
    assert r.message == "该笔贷款已结清"
    r = only(go("wd.repay_fund_loan", e=ev(loans=(L1,)), past=past, loan_contract_no="X-1"),
             "WD_NO_DATA_MATCH")
    assert r.message == "未查询到本人或配偶的住房公积金贷款合同X-1"
    recent = (counter_first("wd.repay_fund_loan", L1.contract_no, date(2025, 8, 31)),)
    r = only(go("wd.repay_fund_loan", e=ev(loans=(L1,)), past=recent,
                loan_contract_no=L1.contract_no), "WD_TOO_FREQUENT")
    assert r.message == "同一贷款每12个月最多提取一次，2026-08-31起可以再次办理"


def test_repay_commercial_loan_up_to_last_years_repayments():
    past = (counter_first("wd.repay_commercial_loan", "SD-88", date(2025, 6, 1)),
            PastWithdrawal("wd.repay_commercial_loan", 500_000, date(2025, 12, 1), "SD-88", "spouse"))
    # Repaid 15,600.00 in 12 months; the spouse took 5,000.00 of it; the member's own
    # 2025-06-01 withdrawal lies before the 12 months (since 2025-06-10): 10,600.00 left.
    a = go("wd.repay_commercial_loan", e=ev(loans=(CL1,)), past=past, loan_contract_no="SD-88")
    assert a.ok and a.cap_fen == 1_060_000 and a.allowed_fen == 1_060_000 and a.route == "auto"


def test_repay_commercial_loan_first_time_at_the_counter():
    r = only(go("wd.repay_commercial_loan", e=ev(loans=(CL1,)), loan_contract_no="SD-88"),
             "WD_FIRST_TIME_AT_COUNTER")
    assert r.message == "首次办理偿还商业贷款提取须到柜台办理并留存原件，之后可在线办理"


# ---------------------------------------------------------------- allowance kinds

def test_low_income_reviewed_leaving_the_minimum_balance():
    m = member(balance_fen=523_456, available_fen=523_456)
    a = go("wd.low_income", m=m, e=ev(low_income_allowance=True))
    assert a.ok and a.allowed_fen == 522_456 and a.cap_fen is None and a.route == "review"
    r = only(go("wd.low_income", m=m, e=ev(low_income_allowance=False)), "WD_NOT_ON_ALLOWANCE")
    assert r.message == "民政部门未查询到您正在享受城乡最低生活保障"
    a = go("wd.low_income", m=m, e=ev(low_income_allowance=UNAVAILABLE))
    assert a.ok and a.route == "review" and a.review_reasons[0].details == {
        "source": "low_income_allowance"}


def test_unemployed():
    a = go("wd.unemployed", e=ev(unemployment_registered=True), amount_fen=300_000)
    assert a.ok and a.allowed_fen == 300_000 and a.route == "review"
    r = only(go("wd.unemployed"), "WD_NOT_UNEMPLOYED")
    assert r.message == "社保部门未查询到您的失业登记信息"
    past = (PastWithdrawal("wd.unemployed", 100_000, date(2026, 2, 1)),)
    r = only(go("wd.unemployed", e=ev(unemployment_registered=True), past=past), "WD_TOO_FREQUENT")
    assert r.message == "下岗失业提取每年最多办理一次，2027-01-01起可以再次办理"


def test_serious_illness_up_to_the_own_share():
    rec = IllnessRecord("ZB-1", ME, date(2026, 4, 1), 4_567_890)
    past = (PastWithdrawal("wd.serious_illness", 567_890, date(2026, 4, 20), "ZB-1", "spouse"),)
    a = go("wd.serious_illness", e=ev(illnesses=(rec,)), past=past, illness_record_no="ZB-1")
    assert a.ok and a.cap_fen == 4_000_000 and a.allowed_fen == 4_000_000 and a.route == "review"
    assert a.reason_code == "09"
    child = replace(rec, patient=STRANGER)
    a = go("wd.serious_illness", e=ev(illnesses=(child,)), illness_record_no="ZB-1")
    assert a.ok and "REVIEW_KINSHIP" in [r.code for r in a.review_reasons]
    r = only(go("wd.serious_illness", e=ev(illnesses=()), illness_record_no="ZB-2"),
             "WD_NO_DATA_MATCH")
    assert r.message == "未查询到重大疾病诊疗记录ZB-2"


# ---------------------------------------------------------------- closing kinds

def test_disability_at_the_counter_takes_the_whole_balance():
    m = member(balance_fen=6_205_700, available_fen=6_205_700)
    a = go("wd.disability", m=m, e=ev(disability=DisabilityAssessment(3, date(2026, 3, 1))),
           at_counter=True)
    assert a.ok and a.allowed_fen == 6_205_700 and a.cap_fen == 6_205_700
    assert a.closes_account and a.route == "counter" and a.reason_code == "04"
    r = only(go("wd.disability", m=m, e=ev(disability=DisabilityAssessment(5, date(2026, 3, 1))),
                at_counter=True), "WD_NO_DATA_MATCH")
    assert r.message == "未查询到4级以上（含）伤残的劳动能力鉴定结论"


def test_closing_kind_with_money_held_or_a_partial_amount():
    m = member(balance_fen=6_205_700, available_fen=6_105_700)
    r = only(go("wd.disability", m=m, e=ev(disability=DisabilityAssessment(1, date(2026, 3, 1))),
                at_counter=True), "WD_FUNDS_HELD")
    assert r.message == "账户有处理中的业务占用资金，办结后才能销户提取"


RETIREE = dict(birth_date=date(1965, 1, 10), id_number=_id("11010519650110003"))


def test_retirement_full_balance_once_the_age_is_reached():
    # Born 1965-01-10: 60 years 1 month → 2025-02-10.
    a = go("wd.retirement", m=member(**RETIREE), today=date(2025, 2, 10))
    assert a.ok and a.allowed_fen == 10_000_000 and a.closes_account and a.route == "auto"
    assert a.reason_code == "03"


def test_retirement_under_age():
    a = go("wd.retirement", m=member(**RETIREE), today=date(2025, 2, 9))
    r = only(a, "WD_UNDER_RETIREMENT_AGE")
    assert r.message == "未达到法定退休年龄（2025-02-10达到），且单位和社保均未登记退休"
    assert r.details == {"retirement_date": date(2025, 2, 10)}


def test_retirement_recorded_by_the_employer_or_social_security():
    early = member(**RETIREE, retirement_recorded_on=date(2025, 1, 31))
    assert go("wd.retirement", m=early, today=date(2025, 2, 1)).ok
    assert go("wd.retirement", m=member(**RETIREE), today=date(2025, 2, 1),
              e=ev(social_security_retired_on=date(2025, 1, 20))).ok
    # Under age and social security cannot answer: a person looks, nothing is refused.
    a = go("wd.retirement", m=member(**RETIREE), today=date(2025, 2, 1),
           e=ev(social_security_retired_on=UNAVAILABLE))
    assert a.ok and a.route == "review" and a.cap_fen == a.allowed_fen == 10_000_000


def test_retirement_takes_everything_or_nothing():
    r = only(go("wd.retirement", m=member(**RETIREE), today=date(2025, 3, 1), amount_fen=100_000),
             "WD_FULL_WITHDRAWAL_ONLY")
    assert r.message == "离退休提取须全额提取并销户，可提取100000.00元"
    assert go("wd.retirement", m=member(**RETIREE), today=date(2025, 3, 1),
              amount_fen=10_000_000).ok


def test_leave_city_and_emigrate_at_the_counter():
    m = member(hukou_local=False)
    for code in ("wd.leave_city", "wd.emigrate"):
        a = go(code, m=m, at_counter=True)
        assert a.ok and a.allowed_fen == 10_000_000 and a.route == "counter" and a.closes_account
        assert a.reason_code == "05"
        assert go(code, m=m).codes == ["WD_COUNTER_ONLY"]
        held = go(code, m=member(hukou_local=True), at_counter=True)
        assert held.ok and [r.code for r in held.review_reasons] == ["REVIEW_HUKOU"]


NONLOCAL = dict(hukou_local=False, account_status="02", sealed_since=date(2025, 12, 10))


def test_non_local_leaver_after_six_months_sealed():
    a = go("wd.leave_job_nonlocal", m=member(**NONLOCAL))  # 2025-12-10 + 6 months = today
    assert a.ok and a.allowed_fen == 10_000_000 and a.route == "auto" and a.closes_account


def test_non_local_leaver_refusals():
    m = member(**{**NONLOCAL, "sealed_since": date(2025, 12, 31)})
    r = only(go("wd.leave_job_nonlocal", m=m), "WD_SEALED_TOO_SHORT")
    assert r.message == "账户封存须满6个月，2026-06-30起可以办理"
    assert r.details == {"sealed_since": date(2025, 12, 31), "possible_on": date(2026, 6, 30)}
    r = only(go("wd.leave_job_nonlocal", m=member(**{**NONLOCAL, "hukou_local": True})),
             "WD_NOT_NON_LOCAL")
    assert r.message == "本市户籍职工不能办理非本市户口离职提取"
    r = only(go("wd.leave_job_nonlocal", m=member(hukou_local=False)), "WD_NOT_SEALED")
    assert r.message == "账户未封存，离职后须由单位办理封存"
    a = go("wd.leave_job_nonlocal", m=member(**{**NONLOCAL, "hukou_local": UNAVAILABLE}))
    assert a.ok and a.route == "review"


def test_death_by_an_heir_at_the_counter():
    m = member(deceased=True, account_status="02")
    a = go("wd.death", m=m, at_counter=True, applicant="heir", applicant_id_number=WIFE)
    assert a.ok and a.allowed_fen == 10_000_000 and a.route == "counter" and a.reason_code == "08"
    r = only(go("wd.death", m=m, at_counter=True), "WD_APPLICANT_NOT_ALLOWED")
    assert r.message == "死亡提取须由继承人或受遗赠人办理"
    a = go("wd.death", m=member(), at_counter=True, applicant="heir")
    assert a.ok and [r.code for r in a.review_reasons] == ["REVIEW_DEATH"]


# ---------------------------------------------------------------- common refusals

def test_account_state_refusals():
    r = only(go("wd.rent", m=member(account_status="06"), past=RENT_COUNTER), "WD_ACCOUNT_FROZEN")
    assert r.message == "账户已冻结，不能办理提取"
    r = only(go("wd.rent", m=member(account_status="05"), past=RENT_COUNTER), "WD_ACCOUNT_CLOSED")
    assert r.message == "账户已销户，不能办理提取"
    r = only(go("wd.rent", m=member(deceased=True), past=RENT_COUNTER), "WD_MEMBER_DECEASED")
    assert r.message == "缴存人已死亡，请由继承人到柜台办理死亡提取"


def test_balance_refusals():
    r = only(go("wd.rent", m=member(balance_fen=0, available_fen=0), past=RENT_COUNTER),
             "WD_NO_BALANCE")
    assert r.message == "账户可用余额为零，不能提取"
    r = only(go("wd.rent", m=member(balance_fen=1_000, available_fen=1_000), past=RENT_COUNTER),
             "WD_MIN_BALANCE")
    assert r.message == "账户须保留最低余额10.00元，暂无可提取金额"
    m = member(balance_fen=200_000, available_fen=200_000)
    r = only(go("wd.rent", m=m, past=RENT_COUNTER, amount_fen=199_500), "WD_MIN_BALANCE")
    assert r.message == "提取后账户须保留最低余额10.00元，最多可提取1990.00元"
    assert r.details == {"min_balance_fen": 1_000, "max_fen": 199_000}
    r = only(go("wd.rent", m=m, past=RENT_COUNTER, amount_fen=200_001), "WD_INSUFFICIENT_BALANCE")
    assert r.message == "提取金额超过账户可用余额2000.00元"
    # Without an amount the payment is cut to what the balance allows.
    a = go("wd.rent", m=m, past=RENT_COUNTER, rent_months=3)
    assert a.ok and a.allowed_fen == 199_000 and a.cap_fen == 450_000


def test_bad_amount_and_unknown_kind():
    r = only(go("wd.rent", past=RENT_COUNTER, amount_fen=0), "WD_INVALID_AMOUNT")
    assert r.message == "提取金额必须大于零"
    a = go("wd.nothing")
    assert a.codes == ["WD_UNKNOWN_KIND"] and a.allowed_fen == 0


def test_every_reason_is_reported_not_just_the_first():
    home = Home("H9", 6000, date(2020, 1, 1), (ME,))
    a = go("wd.rent", m=member(account_status="06"), e=ev(homes=(home,)))
    assert a.codes == ["WD_ACCOUNT_FROZEN", "WD_FIRST_TIME_AT_COUNTER", "WD_OWNS_HOME",
                       "WD_RENT_MONTHS_REQUIRED"]
    assert a.allowed_fen == 0


def test_applicant_rules():
    r = only(go("wd.retirement", m=member(**RETIREE), today=date(2025, 3, 1), applicant="spouse",
                applicant_id_number=WIFE, spouse_authorised=True), "WD_APPLICANT_NOT_ALLOWED")
    assert r.message == "配偶不能代为办理离退休提取"
    r = only(go("wd.rent", past=RENT_COUNTER, applicant="heir"), "WD_APPLICANT_NOT_ALLOWED")
    assert r.message == "只有本人可以办理该项提取"


def test_evidence_defaults_to_unavailable_and_it_has_no_truth_value():
    assert Evidence().homes is UNAVAILABLE
    with pytest.raises(TypeError):
        bool(UNAVAILABLE)
    # Nothing asked: rent cannot be approved automatically.
    a = assess(Request("wd.rent", rent_months=1), member(), Evidence(), RENT_COUNTER, P, TODAY)
    assert a.ok and a.route == "review"


def test_every_kind_has_a_rule_and_its_sources():
    assert set(SOURCES) == set(KINDS)
    fields = set(Evidence.__dataclass_fields__)
    assert all(set(s) <= fields for s in SOURCES.values())


def test_reference_and_month_arithmetic():
    assert reference_of(Request("wd.renovate", invoice_nos=("B", "A"))) == "A,B"
    assert reference_of(Request("wd.rent")) is None
    assert add_months(date(2025, 8, 31), 6) == date(2026, 2, 28)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2026, 6, 10), -12) == date(2025, 6, 10)


# ---------------------------------------------------------------- properties

PARTIAL_CASES = ["wd.rent", "wd.purchase", "wd.property_fee", "wd.repay_fund_loan", "wd.low_income"]


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(PARTIAL_CASES), available=st.integers(0, 10**9),
       held=st.integers(0, 10**6), min_balance=st.integers(0, 10**6),
       amount=st.none() | st.integers(-10, 10**9), size=st.integers(0, 10**9),
       months=st.none() | st.integers(1, 24), rate=st.integers(0, 10**4))
def test_allowed_never_exceeds_the_room_or_the_cap(kind, available, held, min_balance, amount,
                                                   size, months, rate):
    params = replace(P, min_balance_fen=min_balance, rent_monthly_cap_fen=rate * 100,
                     property_fee_cap_fen_per_m2_month=rate)
    m = member(balance_fen=available + held, available_fen=available)
    contract = PurchaseContract("HT", (ME,), size, date(2026, 1, 1))
    e = ev(contracts=(contract,), homes=(Home("H1", size // 1000, date(2015, 1, 1), (ME,)),),
           loans=(HousingLoan("fund", "L", (ME,), size, size, 0),), low_income_allowance=True)
    past = (counter_first("wd.rent", None, date(2026, 3, 1)),
            counter_first("wd.purchase", "HT", date(2025, 1, 1)),
            counter_first("wd.repay_fund_loan", "L", date(2025, 1, 1)))
    if kind == "wd.rent":
        e = replace(e, homes=())
    request = dict(amount_fen=amount, rent_months=months, contract_no="HT",
                   loan_contract_no="L", cert_no="H1")
    a = assess(Request(kind, **request), m, e, past, params, TODAY)
    assert 0 <= a.allowed_fen <= max(0, available - min_balance)
    if a.cap_fen is not None:
        assert a.allowed_fen <= a.cap_fen
    if a.ok and amount is not None:
        assert a.allowed_fen == amount
    if a.ok and amount is None:
        assert a.allowed_fen == min(available - min_balance,
                                    a.cap_fen if a.cap_fen is not None else available)


@settings(max_examples=100, deadline=None)
@given(available=st.integers(0, 10**9), held=st.integers(0, 10**6),
       amount=st.none() | st.integers(1, 10**9))
def test_closing_kinds_pay_the_whole_balance_or_nothing(available, held, amount):
    m = member(balance_fen=available + held, available_fen=available, hukou_local=False,
               account_status="02", sealed_since=date(2025, 1, 1))
    a = go("wd.leave_job_nonlocal", m=m, amount_fen=amount)
    assert a.allowed_fen in (0, available)
    assert a.ok == (available > 0 and held == 0 and amount in (None, available))
