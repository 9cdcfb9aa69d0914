"""Base and ratio adjustments (single, batch, Excel upload) and supplementary payments."""

import io
from datetime import date

from openpyxl import Workbook
from sqlalchemy import select

from hpf.config import get_settings
from hpf.deposits import remittance
from hpf.deposits.models import Member, RemitList
from hpf.kit.db import transaction
from hpf.ledger.models import LedgerAccount, Posting

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _member(city, member_no):
    with transaction(city.url) as s:
        m = s.scalars(select(Member).where(Member.member_no == member_no)).one()
        return m.base_fen, m.base_year, m.unit_ratio_bps, m.member_ratio_bps


def _adjust(city, headers, rows, **extra):
    return city.call("dep.base_adjust", {"rows": [{"member_no": no, "base_fen": base}
                                                  for no, base in rows], **extra}, headers)


def test_base_adjust_upward_is_automatic_downward_and_repeat_need_approval(city):
    unit = city.login("unit", "unit01")
    a = city.open_member(unit, 1, "卢青怡", 500_000)
    b = city.open_member(unit, 2, "王伟", 500_000)
    # The base declared at opening is no adjustment: this year's first one goes straight in.
    r = _adjust(city, unit, [(a, 586_600)])
    assert r.status_code == 200, r.text
    assert r.json()["result"] == {"adjusted": 1, "year": 2026}
    assert _member(city, a)[:2] == (586_600, 2026)
    # A second adjustment in the same year waits for a reviewer, even upward.
    r = _adjust(city, unit, [(a, 600_000)])
    assert r.status_code == 202 and r.json()["approvals_required"] == 1, r.text
    assert _member(city, a)[0] == 586_600
    assert city.approve(r, "rev1")["status"] == "succeeded"
    assert _member(city, a)[0] == 600_000
    # Downward: pending; a batch with one downward row waits as a whole.
    r = _adjust(city, unit, [(b, 450_000)])
    assert r.status_code == 202
    command_id = int(r.headers["X-Command-Id"])
    rejected = city.decide(command_id, "rev1", approve=False, reason="无工资证明")
    assert rejected.json()["status"] == "rejected"
    assert _member(city, b)[:2] == (500_000, None)
    # Last year's adjustment does not count as this year's.
    r = _adjust(city, unit, [(b, 520_000)], year=2025)
    assert r.status_code == 200 and r.json()["result"]["year"] == 2025
    r = _adjust(city, unit, [(b, 530_000)])
    assert r.status_code == 200, r.text
    assert _member(city, b)[:2] == (530_000, 2026)
    info = city.call("q.unit_info", {}, unit).json()["result"]
    assert info["arrears_estimate_fen"] == 2 * (2 * 72_000 + 2 * 63_600)  # 6000, 5300 at 12%


def test_base_adjust_reports_every_problem_row(city):
    unit = city.login("unit", "unit01")
    a = city.open_member(unit, 3, "赵敏", 500_000)
    b = city.open_member(unit, 4, "周杰", 500_000)
    city.employer(301, "滇西贸易有限公司", "unit02")
    stranger = city.open_member(city.login("unit", "unit02"), 5, "钱多多", 400_000)
    r = _adjust(city, unit, [(a, 100_000), (b, 3_000_001), (a, 600_000), (stranger, 500_000),
                             ("530199999999", 500_000)])
    assert r.status_code == 422 and r.json()["code"] == "BASE_ADJUST_INVALID", r.text
    details = r.json()["details"]
    assert details["problem_count"] == 5
    assert [(p["row"], p["code"]) for p in details["problems"]] == [
        (1, "BASE_BELOW_FLOOR"), (2, "BASE_ABOVE_CAP"), (3, "DUPLICATE_ROW"),
        (4, "OTHER_EMPLOYER"), (5, "MEMBER_NOT_FOUND")]
    assert _member(city, a)[0] == _member(city, b)[0] == 500_000
    # The bounds are the parameters in force: 2100 yuan floor, 30000 yuan cap from 2025-07-01.
    assert _adjust(city, unit, [(b, 3_000_000)]).status_code == 200
    assert _adjust(city, unit, [(a, 210_000)]).status_code == 202  # accepted, but downward


def _workbook(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["个人账号", "姓名", "新缴存基数(元)"])
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _upload(city, headers, content, name="jishu.xlsx", media=XLSX, **form):
    return city.client.post("/api/v1/uploads/base-adjust", files={"file": (name, content, media)},
                            data=form, headers={**headers, "X-HPF-Channel": "hall"})


def test_base_adjust_by_excel_upload(city, monkeypatch):
    unit = city.login("unit", "unit01")
    a = city.open_member(unit, 6, "孙悟", 500_000)
    b = city.open_member(unit, 7, "李娜", 400_000)
    r = _upload(city, unit, _workbook([(a, "孙悟", 5866), (b, "李娜", "4500.50"), (None, None, None)]))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "succeeded"
    assert r.json()["result"] == {"adjusted": 2, "year": 2026}
    assert _member(city, a)[0] == 586_600 and _member(city, b)[0] == 450_050
    # Downward in a workbook: the gateway keeps it for review.
    r = _upload(city, unit, _workbook([(a, "孙悟", 5000)]))
    assert r.json()["status"] == "pending"
    # Staff can upload for a named employer at the counter's desk too.
    r = city.client.post("/api/v1/uploads/base-adjust",
                         files={"file": ("jishu.xlsx", _workbook([(b, "李娜", 4600)]), XLSX)},
                         data={"unit_no": city.unit_no, "year": "2027"},
                         headers={**city.staff("clerk"), "X-HPF-Channel": "counter"})
    assert r.status_code == 200 and r.json()["result"]["year"] == 2027, r.text

    r = _upload(city, unit, _workbook([(a, "孙悟", "五千元")]))
    assert r.status_code == 422 and r.json()["code"] == "BASE_ADJUST_INVALID"
    assert r.json()["details"]["problems"] == [{"row": 2, "code": "INVALID_AMOUNT"}]
    r = _upload(city, unit, _workbook([]))
    assert r.status_code == 422 and r.json()["code"] == "EMPTY_WORKBOOK"
    r = _upload(city, unit, b"member_no,base\n1,2\n", name="jishu.csv", media="text/csv")
    assert r.status_code == 422 and r.json()["code"] == "BAD_WORKBOOK"
    monkeypatch.setattr(get_settings(), "max_upload_bytes", 1024)
    big = _workbook([(a, "孙悟", 6000)] + [(b, "李娜" * 50, 6000 + i) for i in range(200)])
    assert len(big) > 1024
    r = _upload(city, unit, big)
    assert r.status_code == 413 and r.json()["code"] in ("PAYLOAD_TOO_LARGE", "UPLOAD_TOO_LARGE")
    assert _member(city, a)[0] == 586_600  # nothing of the refused uploads applied


def test_ratio_adjust_updates_members_and_the_next_list(city):
    unit = city.login("unit", "unit01")
    a = city.open_member(unit, 8, "周杰", 500_000)
    sealed = city.open_member(unit, 9, "钱多多", 400_000)
    city.call("dep.seal", {"member_no": sealed, "reason": "离职"}, unit)
    r = city.call("dep.ratio_adjust", {"unit_ratio_bps": 1000, "member_ratio_bps": 700,
                                       "from_month": 202601, "reason": "经职代会决议"}, unit)
    body = city.approve(r, "rev1", "rev2")
    assert body["result"]["members_updated"] == 1  # active members only
    assert _member(city, a)[2:] == (1000, 700)
    assert _member(city, sealed)[2:] == (1200, 1200)
    listed = city.call("dep.remit", {"action": "generate", "period": 202601}, unit).json()["result"]
    assert (listed["unit_total_fen"], listed["member_total_fen"]) == (50_000, 35_000)


def test_supplement_of_past_months_credits_members_after_approval(city):
    unit = city.login("unit", "unit01")
    a = city.open_member(unit, 10, "卢青怡", 586_600)
    b = city.open_member(unit, 11, "王伟", 300_000)
    for months, code in [([202604], "MONTH_IN_FUTURE"), ([202603], "SUPPLEMENT_NOT_PAST"),
                         ([202512, 202512], "DUPLICATE_MONTH"), ([202513], "INVALID_MONTH")]:
        r = city.call("dep.supplement", {"member_nos": [a], "months": months, "reason": "漏缴"},
                      unit)
        assert r.status_code == 422 and r.json()["code"] == code, (months, r.text)
    city.employer(302, "滇西贸易有限公司", "unit02")
    stranger = city.open_member(city.login("unit", "unit02"), 12, "赵敏", 400_000)
    r = city.call("dep.supplement", {"member_nos": [a, stranger], "months": [202511],
                                     "reason": "漏缴"}, unit)
    assert r.status_code == 403 and r.json()["code"] == "OTHER_EMPLOYER"

    r = city.call("dep.supplement", {"member_nos": [a, b], "months": [202511, 202512],
                                     "reason": "2025年11-12月漏缴"}, unit)
    assert r.status_code == 202 and r.json()["approvals_required"] == 2, r.text
    body = city.approve(r, "rev1", "rev2")
    assert body["status"] == "succeeded", body
    listed = body["result"]
    # 5866 × 12% → 704 and 3000 × 12% = 360 per part, for two months.
    assert listed["status"] == "confirmed" and listed["kind"] == "supplement"
    assert (listed["member_count"], listed["unit_total_fen"], listed["total_fen"]) == (
        4, 2 * (70_400 + 36_000), 4 * (70_400 + 36_000))
    assert listed["reference"] in listed["instruction"]

    with transaction(city.url) as s:
        receipt = remittance.record_receipt(
            s, bank_code="ICBC", bank_txn_id="ICBC-BJ-0001", amount_fen=listed["total_fen"],
            payer_name="春城科技有限公司", payer_account="6222020000000001",
            reference=listed["reference"], arrived_on=date(2026, 3, 16))
        assert receipt.status == "matched"
        remit_list = s.scalars(select(RemitList).where(
            RemitList.reference == listed["reference"])).one()
        assert (remit_list.status, remit_list.credited_on) == ("credited", date(2026, 3, 16))
        balances = dict(s.execute(
            select(Member.member_no, LedgerAccount.balance_fen)
            .join(LedgerAccount, LedgerAccount.id == Member.account_id)).all())
        assert balances[a] == 2 * 140_800 and balances[b] == 2 * 72_000
        types = set(s.scalars(select(Posting.entry_type).where(
            Posting.account_id.in_(select(Member.account_id)))))
        assert types == {"supplement"}
    deposits = city.call("q.member_deposits", {"member_no": a}, city.staff("clerk"),
                         channel="counter").json()["result"]["items"]
    assert [(d["period"], d["kind"], d["amount_fen"]) for d in deposits] == [
        (202512, "supplement", 140_800), (202511, "supplement", 140_800)]
    # paid_through is the monthly remittance's: a supplement does not advance it.
    assert city.call("q.unit_info", {}, unit).json()["result"]["paid_through"] == 202512
    # Supplementing the same months again is refused once they are credited.
    r = city.call("dep.supplement", {"member_nos": [a], "months": [202512], "reason": "重复"}, unit)
    body = city.approve(r, "rev1", "rev2")
    assert body["status"] == "failed" and body["error"]["code"] == "MONTH_ALREADY_PAID"
    city.ledger_ok()
