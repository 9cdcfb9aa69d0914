"""The review's rule defects through the gateway: what gather reads for the rules (the home's
two numbers, the employer's state, the parameter in months) and what the service reserves."""

from datetime import date

from sqlalchemy import select
from wd_support import TODAY, balance, saver

from hpf.catalog import params
from hpf.config import get_settings
from hpf.deposits.models import Employer, Member
from hpf.exchange.housing_models import (
    RegHousingContract,
    RegHousingContractBuyer,
    RegMaintenancePayment,
    RegProperty,
    RegPropertyOwner,
)
from hpf.kit import clock
from hpf.kit.db import transaction
from hpf.withdrawals import gather
from hpf.withdrawals.models import WdApplication

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ADDRESS = "五华区维修路8号"


def _refused(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code, body
    assert body["message"]
    return body


def _online(saver_, **extra) -> dict:
    return {"bank_code": "ICBC", "card_no": saver_.card_no, **extra}


def _home_with_fund(city, owner: str) -> None:
    """Home H-WX1 bought under contract HT-WX1 (same address), 8,000.00 yuan maintenance fund."""
    with transaction(city.url) as s:
        s.add(RegProperty(cert_no="H-WX1", address=ADDRESS, floor_area_dm2=9000,
                          registered_on=date(2025, 3, 1)))
        s.add(RegHousingContract(contract_no="HT-WX1", kind="new", price_fen=90_000_000,
                                 signed_on=date(2024, 5, 1), filed_on=date(2024, 5, 1),
                                 address=ADDRESS, floor_area_dm2=9000))
        s.flush()
        s.add(RegPropertyOwner(cert_no="H-WX1", id_number=owner))
        s.add(RegHousingContractBuyer(contract_no="HT-WX1", id_number=owner))
        s.add(RegMaintenancePayment(receipt_no="WX-001", id_number=owner, amount_fen=800_000,
                                    paid_on=date(2024, 5, 10), address=ADDRESS))


def test_maintenance_fund_once_for_the_home_whichever_number_is_named(city):
    with clock.frozen(TODAY):
        zhou = saver(city, 41, "周维修", 2_000_000)
        _home_with_fund(city, zhou.id_number)
        r = city.call("wd.maintenance_fund", _online(zhou, contract_no="HT-WX1"),
                      city.sms_code(zhou.headers, "wd.maintenance_fund"), channel="app")
        assert r.status_code == 200, r.text
        assert r.json()["result"]["amount_fen"] == 800_000
        with transaction(city.url) as s:
            # Named by its contract, stored under the home's certificate.
            assert s.scalars(select(WdApplication.document_no)).one() == "H-WX1"
        for named in ({"cert_no": "H-WX1"}, {"contract_no": "HT-WX1"}):
            body = _refused(city.call("wd.maintenance_fund", _online(zhou, **named),
                                      city.sms_code(zhou.headers, "wd.maintenance_fund"),
                                      channel="app"), 422, "WD_TOO_FREQUENT")
            assert body["message"] == "已就H-WX1办理过住宅专项维修资金提取"
        assert balance(city, zhou.account_id) == (1_200_000, 0)
        city.ledger_ok()


def test_property_fee_with_the_registry_down_reserves_only_the_amount_stated(city, monkeypatch):
    with clock.frozen(TODAY):
        wu = saver(city, 42, "吴物业", 10_000_000)  # 100,000.00 yuan
        monkeypatch.setenv("HPF_SHARED_DATA_ADAPTER", "http")
        monkeypatch.setenv("HPF_SHARED_DATA_URL", "http://127.0.0.1:9/")
        monkeypatch.setenv("HPF_HTTP_TIMEOUT_S", "0.5")
        get_settings.cache_clear()
        body = _refused(city.call("wd.property_fee", _online(wu, cert_no="H-X"),
                                  city.sms_code(wu.headers, "wd.property_fee"), channel="app"),
                        422, "WD_AMOUNT_REQUIRED")
        assert "请填写提取金额" in body["message"]
        assert balance(city, wu.account_id) == (10_000_000, 0)  # nothing reserved
        receipt = _upload(city, wu.headers, "property_fee_receipt")
        r = city.call("wd.property_fee",
                      _online(wu, cert_no="H-X", amount_fen=215_000, materials=[receipt]),
                      city.sms_code(wu.headers, "wd.property_fee"), channel="app")
        assert r.status_code == 202, r.text  # a reviewer checks the 2,150.00 against the cap
        assert balance(city, wu.account_id) == (10_000_000, 215_000)
        monkeypatch.delenv("HPF_SHARED_DATA_ADAPTER")
        get_settings.cache_clear()
        city.ledger_ok()


def _leaver(city, n: int, name: str, *, status: str, paid_through: int):
    """A non-local member sealed on 2025-09-01 (over six months by TODAY), at an employer in
    `status` that has paid through `paid_through`."""
    who = saver(city, n, name, 3_000_000, hukou="110100")
    with transaction(city.url) as s:
        member = s.scalars(select(Member).where(Member.member_no == who.member_no)).one()
        member.status, member.sealed_on = "02", date(2025, 9, 1)
        employer = s.get(Employer, member.employer_id)
        employer.status, employer.paid_through = status, paid_through
    return who


def _upload(city, headers, code: str) -> int:
    r = city.client.post("/api/v1/uploads/materials",
                         files={"file": (f"{code}.pdf", PDF, "application/pdf")},
                         data={"code": code}, headers={**headers, "X-HPF-Channel": "hall"})
    assert r.status_code == 200, r.text
    return r.json()["material_id"]


def test_non_local_leaver_of_a_sealed_employer_is_reviewed_with_the_termination_proof(city):
    with clock.frozen(TODAY):
        zheng = _leaver(city, 43, "郑离职", status="05", paid_through=202602)
        step_up = city.sms_code(zheng.headers, "wd.leave_job_nonlocal")
        body = _refused(city.call("wd.leave_job_nonlocal", _online(zheng), step_up,
                                  channel="app"), 422, "MATERIAL_MISSING")
        assert body["details"]["missing"] == ["termination_proof"]
        assert balance(city, zheng.account_id) == (3_000_000, 0)
        proof = _upload(city, zheng.headers, "termination_proof")
        r = city.call("wd.leave_job_nonlocal", _online(zheng, materials=[proof]),
                      city.sms_code(zheng.headers, "wd.leave_job_nonlocal"), channel="app")
        assert r.status_code == 202, r.text  # a reviewer sees the proof
        with transaction(city.url) as s:
            app = s.scalars(select(WdApplication)).one()
            assert "REVIEW_EMPLOYER_IRREGULAR" in app.review_reasons
            assert "单位账户已整体封存" in app.review_reasons
        assert balance(city, zheng.account_id) == (3_000_000, 3_000_000)
        city.ledger_ok()


def test_non_local_leaver_of_an_employer_in_arrears_is_reviewed(city):
    with clock.frozen(TODAY):
        # Paid through 2025-12 on 2026-03-16: January and February are owed.
        qian = _leaver(city, 44, "钱欠缴", status="01", paid_through=202512)
        proof = _upload(city, qian.headers, "termination_proof")
        r = city.call("wd.leave_job_nonlocal", _online(qian, materials=[proof]),
                      city.sms_code(qian.headers, "wd.leave_job_nonlocal"), channel="app")
        assert r.status_code == 202, r.text
        with transaction(city.url) as s:
            assert "欠缴住房公积金2个月" in s.scalars(select(WdApplication.review_reasons)).one()


def test_non_local_leaver_of_a_normal_employer_is_approved_without_the_proof(city):
    with clock.frozen(TODAY):
        sun = _leaver(city, 45, "孙正常", status="01", paid_through=202602)
        r = city.call("wd.leave_job_nonlocal", _online(sun),
                      city.sms_code(sun.headers, "wd.leave_job_nonlocal"), channel="app")
        assert r.status_code == 200, r.text
        assert r.json()["result"]["status"] == "approved"


def test_purchase_window_is_read_in_months(city):
    with clock.frozen(TODAY), transaction(city.url) as s:
        assert gather.rule_params(s, TODAY).purchase_window_months == 24
        params.set_value(s, "withdrawal.purchase_window_months", date(2026, 3, 1), 36)
        params.clear_cache()
        assert gather.rule_params(s, TODAY).purchase_window_months == 36
        assert params.check_value("withdrawal.purchase_window_months", 120) == 120
