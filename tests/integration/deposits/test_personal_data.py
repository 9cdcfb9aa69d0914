"""Personal data: nothing in the clear at rest, lookups by ID number through the blind index,
and ID numbers and phones in full only for the person and the staff who need them."""

import io
import re

import structlog
from openpyxl import Workbook, load_workbook
from sqlalchemy import select, text

from hpf.deposits.models import Member
from hpf.exchange import models as exchange_models
from hpf.identity import service as identity
from hpf.kit.db import transaction
from hpf.models import metadata

from .conftest import PASSWORD
from .test_flexible import _card, luhn

PHONE_A, PHONE_B, NEW_PHONE = "13655556666", "13755557777", "13855558888"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXTERNAL = {v.__table__.name for v in vars(exchange_models).values() if hasattr(v, "__table__")}


def _masked(id_number: str) -> str:
    return id_number[:6] + "********" + id_number[-4:]


def _scan(url: str) -> str:
    """Every row of every platform table as text (the external sources' tables excepted:
    they simulate the other party's systems)."""
    with transaction(url) as s:
        return "\n".join(repr(tuple(row)) for table in sorted(metadata.tables)
                         if table not in EXTERNAL
                         for row in s.execute(text(f"SELECT * FROM {table}")))


def _open(city, unit, n: int, name: str, phone: str) -> tuple[str, str]:
    id_number = city.person(n, name)
    r = city.call("dep.member_open", {"name": name, "id_number": id_number, "phone": phone,
                                      "base_fen": 500_000, "first_month": 202601}, unit)
    assert r.status_code == 200, r.text
    return r.json()["result"]["member_no"], id_number


def _auditor(city) -> dict:
    with transaction(city.url) as s:
        identity.create_staff(s, "aud", "审计员", PASSWORD, {"auditor"})
    return city.staff("aud")


def test_nothing_in_the_clear_and_lookups_by_id_number(city):
    unit = city.login("unit", "unit01")
    clerk = city.staff("clerk")
    a, id_a = _open(city, unit, 1, "卢青怡", PHONE_A)
    b, id_b = _open(city, unit, 2, "王伟", PHONE_B)
    # The duplicate check finds the person under either spelling of the number.
    for spelling in (id_a, id_a[:6] + id_a[8:17], id_a.lower()):
        r = city.call("dep.member_open", {"name": "卢青怡", "id_number": spelling,
                                          "base_fen": 500_000}, unit)
        assert r.status_code == 409 and r.json()["code"] == "MEMBER_EXISTS", spelling
    # Members sign in by ID number (either spelling); the login log keeps no number.
    me = city.member_login(a)
    r = city.client.post("/api/v1/auth/login", json={
        "kind": "member", "login_name": id_a[:6] + id_a[8:17], "password": PASSWORD})
    assert r.status_code == 200, r.text
    city.client.cookies.clear()
    r = city.client.post("/api/v1/auth/login", json={
        "kind": "member", "login_name": id_b, "password": "Wrong-pass1"})
    assert r.status_code == 401
    # A phone change at the counter, a flexible depositor's card, a roster export and an
    # Excel base adjustment: all of it must stay sealed.
    r = city.call("dep.member_change", {"member_no": b, "phone": NEW_PHONE}, clerk,
                  channel="counter")
    assert r.status_code == 200, r.text
    assert r.json()["result"]["before"] == {"phone": PHONE_B}  # the clerk sees it in full
    flex_id = city.person(3, "赵敏")
    r = city.call("dep.flexible_open", {"name": "赵敏", "id_number": flex_id, "phone": "13955559999",
                                        "base_fen": 586_600, "ratio_bps": 2000}, clerk,
                  channel="counter")
    flex_no = city.approve(r, "rev1")["result"]["member_no"]
    card = _card(city, luhn("621700000000000002"), "赵敏", flex_id)
    r = city.call("dep.flexible_pay", {"member_no": flex_no, "action": "sign", "bank_code": "CCB",
                                       "card_no": card, "debit_day": 5, "consent": True}, clerk,
                  channel="counter")
    assert r.status_code == 200, r.text
    r = city.call("dep.flexible_pay", {"member_no": flex_no, "action": "pay", "period": 202603},
                  clerk, channel="counter")
    assert r.status_code == 200, r.text
    r = city.client.get("/api/v1/exports/unit-members.xlsx",
                        headers={**clerk, "X-HPF-Channel": "counter"},
                        params={"unit_no": city.unit_no})
    assert r.status_code == 200, r.text
    book = Workbook()
    book.active.append(["个人账号", "姓名", "新缴存基数(元)"])
    book.active.append([a, "卢青怡", 5866])
    buffer = io.BytesIO()
    book.save(buffer)
    r = city.client.post("/api/v1/uploads/base-adjust",
                         files={"file": ("jishu.xlsx", buffer.getvalue(), XLSX)},
                         headers={**unit, "X-HPF-Channel": "hall"})
    assert r.status_code == 200 and r.json()["result"]["adjusted"] == 1, r.text
    assert city.call("q.member_account", {}, me).status_code == 200

    stored = _scan(city.url)
    assert "v1." in stored  # the sealed columns were scanned too
    for secret in (id_a, id_b, flex_id, id_a[:6] + id_a[8:17], PHONE_A, PHONE_B, NEW_PHONE,
                   "13955559999", "13900001111", card):
        assert secret not in stored, secret
    # ... while everything reads back through the application.
    with transaction(city.url) as s:
        member = s.scalars(select(Member).where(Member.member_no == b)).one()
        assert (member.id_number, member.phone) == (id_b, NEW_PHONE)


def test_who_sees_the_id_number(city):
    unit = city.login("unit", "unit01")
    a, id_a = _open(city, unit, 1, "卢青怡", PHONE_A)
    b, id_b = _open(city, unit, 2, "王伟", PHONE_B)
    me = city.member_login(a)

    mine = city.call("q.member_account", {}, me).json()["result"]
    assert (mine["id_number"], mine["phone"]) == (id_a, PHONE_A)
    r = city.call("q.member_account", {"member_no": b}, me)
    assert r.status_code == 403 and r.json()["code"] == "OTHER_MEMBER"
    assert id_b not in r.text

    clerk = city.call("q.member_account", {"member_no": b}, city.staff("clerk"),
                      channel="counter").json()["result"]
    assert (clerk["id_number"], clerk["phone"]) == (id_b, PHONE_B)
    auditor = _auditor(city)
    seen = city.call("q.member_account", {"member_no": b}, auditor, channel="counter")
    assert seen.status_code == 200, seen.text
    assert (seen.json()["result"]["id_number"], seen.json()["result"]["phone"]) == (
        _masked(id_b), "137****7777")
    ops = city.call("q.member_account", {"member_no": b}, city.staff("ops"), channel="counter")
    # A channel operator either may not read member accounts at all, or sees them masked.
    assert id_b not in ops.text and PHONE_B not in ops.text

    # The employer's roster and its Excel export: masked for the employer, full for the clerk.
    roster = city.call("q.unit_members", {}, unit).json()["result"]["items"]
    assert {m["id_number"] for m in roster} == {_masked(id_a), _masked(id_b)}
    roster = city.call("q.unit_members", {"unit_no": city.unit_no}, city.staff("clerk"),
                       channel="counter").json()["result"]["items"]
    assert {m["id_number"] for m in roster} == {id_a, id_b}
    r = city.client.get("/api/v1/exports/unit-members.xlsx",
                        headers={**unit, "X-HPF-Channel": "hall"})
    cells = {c for row in load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True)
             for c in row}
    assert _masked(id_a) in cells and id_a not in cells

    # A clerk's change is stored as the clerk saw it; the employer reads it back masked.
    r = city.call("dep.member_change", {"member_no": b, "phone": NEW_PHONE},
                  city.staff("clerk"), channel="counter")
    assert r.status_code == 200, r.text
    business = city.call("q.unit_business", {}, unit)
    assert business.status_code == 200, business.text
    assert PHONE_B not in business.text and "137****7777" in business.text
    # The employer's own contact phone: in full for its operator, masked for the auditor.
    info = city.call("q.unit_info", {}, unit).json()["result"]
    assert info["contact_phone"] == "13900001111"
    info = city.call("q.unit_info", {"unit_no": city.unit_no}, auditor,
                     channel="counter").json()["result"]
    assert info["contact_phone"] == "139****1111"


def test_logs_mask_personal_data(city, capsys):
    # create_app configured structlog (hpf.kit.logs); any logger of the process masks.
    id_number = city.person(1, "卢青怡")
    structlog.get_logger("hpf.test").warning("lookup failed", id_number=id_number,
                                             detail=f"phone {PHONE_A} for {id_number}")
    out = capsys.readouterr().out
    assert id_number not in out and PHONE_A not in out
    assert re.search(re.escape(_masked(id_number)), out) and "136****6666" in out
