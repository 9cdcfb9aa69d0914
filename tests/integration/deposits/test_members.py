"""Member accounts end to end: opening, changes, seal and unseal, same-city transfer."""

from sqlalchemy import func, select

from hpf.deposits.models import Member
from hpf.gateway.models import Command
from hpf.kit.db import transaction
from hpf.ledger.models import LedgerAccount

from .conftest import CARD, PASSWORD


def test_one_account_per_person(city):
    unit = city.login("unit", "unit01")
    id_number = city.person(1, "卢青怡")
    body = {"name": "卢青怡", "id_number": id_number, "base_fen": 586_600}
    first = city.call("dep.member_open", body, unit)
    assert first.status_code == 200, first.text
    member_no = first.json()["result"]["member_no"]
    assert first.json()["result"]["first_month"] == 202603  # default: this month
    again = city.call("dep.member_open", body, unit)
    assert again.status_code == 409 and again.json()["code"] == "MEMBER_EXISTS"
    assert again.json()["details"]["member_no"] == member_no
    other_unit = city.employer(201, "滇西贸易有限公司", "unit02")
    other = city.login("unit", "unit02")
    elsewhere = city.call("dep.member_open", body, other)
    assert elsewhere.status_code == 409 and elsewhere.json()["code"] == "MEMBER_EXISTS_ELSEWHERE"
    assert elsewhere.json()["details"]["member_no"] == member_no
    # An operator cannot open an account at another employer by naming its unit number.
    r = city.call("dep.member_open", {**body, "unit_no": other_unit}, unit)
    assert r.status_code == 403 and r.json()["code"] == "OTHER_EMPLOYER"
    with transaction(city.url) as s:
        assert s.scalar(select(func.count()).select_from(Member)) == 1


def test_fifteen_digit_id_number_is_upgraded(city):
    unit = city.login("unit", "unit01")
    id18 = city.person(2, "王伟")
    id15 = id18[:6] + id18[8:17]  # 升位 reversed: drop the century and the check digit
    r = city.call("dep.member_open", {"name": "王伟", "id_number": id15, "base_fen": 300_000}, unit)
    assert r.status_code == 200, r.text
    member_no = r.json()["result"]["member_no"]
    with transaction(city.url) as s:
        member = s.scalars(select(Member).where(Member.member_no == member_no)).one()
        assert (member.id_number, member.gender, member.birth_date.isoformat(),
                member.retire_group) == (id18, "M", "1990-05-17", "M60")
    # The 18-digit form is the same person.
    r = city.call("dep.member_open", {"name": "王伟", "id_number": id18, "base_fen": 300_000}, unit)
    assert r.status_code == 409 and r.json()["code"] == "MEMBER_EXISTS"
    # Member queries belong to the member (and the counter), not to the employer.
    r = city.call("q.member_account", {"member_no": member_no}, unit)
    assert r.status_code == 403 and r.json()["code"] == "ACTOR_NOT_ALLOWED"
    account = city.call("q.member_account", {"member_no": member_no}, city.staff("clerk"),
                        channel="counter").json()["result"]
    # The counter clerk checks the person against the ID card: the number in full
    # (hpf.identity.visibility; an auditor or the employer sees it masked).
    assert account["id_number"] == id18
    assert (account["unit_monthly_fen"], account["member_monthly_fen"]) == (36_000, 36_000)


def test_member_changes_own_phone_online_but_identity_only_at_the_counter(city):
    unit = city.login("unit", "unit01")
    member_no = city.open_member(unit, 3, "赵敏", phone="13600001111")
    me = city.member_login(member_no)
    r = city.call("dep.member_change", {"phone": "13600002222", "address": "呈贡区大学城"}, me,
                  channel="app")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "succeeded"
    assert r.json()["result"]["changed"] == ["address", "phone"]
    assert r.json()["result"]["before"] == {"phone": "13600001111", "address": None}
    account = city.call("q.member_account", {}, me, channel="app").json()["result"]
    assert account["phone"] == "13600002222"
    r = city.call("dep.member_change", {"name": "赵小敏"}, me, channel="app")
    assert r.status_code == 403 and r.json()["code"] == "IDENTITY_CHANGE_COUNTER_ONLY"
    r = city.call("dep.member_change", {"member_no": member_no, "name": "赵小敏"}, unit)
    assert r.status_code == 403 and r.json()["code"] == "IDENTITY_CHANGE_COUNTER_ONLY"
    # Staff in the web hall are not at the counter either.
    r = city.call("dep.member_change", {"member_no": member_no, "name": "赵小敏"},
                  city.staff("clerk"), channel="hall")
    assert r.status_code == 403 and r.json()["code"] == "IDENTITY_CHANGE_COUNTER_ONLY"

    r = city.call("dep.member_change", {"member_no": member_no, "name": "赵小敏"},
                  city.staff("clerk"), channel="counter")
    assert r.status_code == 202 and r.json()["approvals_required"] == 2, r.text
    command_id = int(r.headers["X-Command-Id"])
    assert city.decide(command_id, "rev1").json()["status"] == "pending"
    with transaction(city.url) as s:
        assert s.scalars(select(Member.name).where(Member.member_no == member_no)).one() == "赵敏"
    body = city.decide(command_id, "rev2").json()
    assert body["status"] == "succeeded", body
    assert body["result"]["before"] == {"name": "赵敏"}
    with transaction(city.url) as s:
        assert s.scalars(select(Member.name).where(Member.member_no == member_no)).one() == "赵小敏"
        changes = s.scalars(select(Command.service_code).where(
            Command.member_id.is_not(None), Command.status == "succeeded")).all()
        assert changes.count("dep.member_change") == 2


def _remit(city, headers, period, unit_no=None):
    base = {"period": period, **({"unit_no": unit_no} if unit_no else {})}
    generated = city.call("dep.remit", {**base, "action": "generate"}, headers)
    assert generated.status_code == 200, generated.text
    assert city.call("dep.remit", {**base, "action": "confirm"}, headers).status_code == 200
    paid = city.call("dep.remit", {**base, "action": "pay", "method": "debit", "account_no": CARD},
                     headers)
    assert paid.status_code == 200 and paid.json()["result"]["status"] == "credited", paid.text
    return paid.json()["result"]


def test_seal_unseal_and_same_city_transfer(city):
    unit = city.login("unit", "unit01")
    a = city.open_member(unit, 4, "周杰", 500_000)
    b = city.open_member(unit, 5, "钱多多", 400_000)
    r = city.call("dep.seal", {"member_no": a, "reason": "停薪留职"}, unit)
    assert r.status_code == 200 and r.json()["result"]["status"] == "02", r.text
    r = city.call("dep.seal", {"member_no": a, "reason": "停薪留职"}, unit)
    assert r.status_code == 409 and r.json()["code"] == "MEMBER_NOT_NORMAL"
    generated = city.call("dep.remit", {"action": "generate", "period": 202601}, unit).json()
    assert generated["result"]["member_count"] == 1  # the sealed member is left out
    assert generated["result"]["total_fen"] == 96_000  # 4000 × 12% = 480, both parts
    r = city.call("dep.unseal", {"member_no": a}, unit)
    assert r.status_code == 200 and r.json()["result"]["status"] == "01"
    r = city.call("dep.unseal", {"member_no": a}, unit)
    assert r.status_code == 409 and r.json()["code"] == "MEMBER_NOT_SEALED"
    paid = _remit(city, unit, 202601)  # regenerates the draft: both members now
    assert (paid["member_count"], paid["total_fen"]) == (2, 120_000 + 96_000)

    target = city.employer(202, "滇西贸易有限公司", "unit02", unit_ratio_bps=800,
                           member_ratio_bps=600, first_month=202603, paid_through=202602)
    r = city.call("dep.transfer_local", {"member_no": a, "to_unit_no": target,
                                         "base_fen": 550_000}, unit)
    assert r.status_code == 200, r.text
    assert r.json()["result"] == {"member_no": a, "from_unit": city.unit_no, "to_unit": target,
                                  "unit_ratio_bps": 800, "member_ratio_bps": 600}
    with transaction(city.url) as s:
        member = s.scalars(select(Member).where(Member.member_no == a)).one()
        balance = s.get(LedgerAccount, member.account_id).balance_fen
        assert balance == 120_000  # the balance stays with the member
        assert (member.base_fen, member.first_month, member.status) == (550_000, 202603, "01")
    # The source employer no longer lists the member; the destination does, at its ratios.
    source = city.call("dep.remit", {"action": "generate", "period": 202602}, unit).json()
    assert source["result"]["member_count"] == 1
    dest_unit = city.login("unit", "unit02")
    dest = city.call("dep.remit", {"action": "generate", "period": 202603}, dest_unit).json()
    assert dest["result"]["member_count"] == 1
    assert (dest["result"]["unit_total_fen"], dest["result"]["member_total_fen"]) == (
        44_000, 33_000)  # 5500 × 8% = 440, × 6% = 330
    roster = city.call("q.unit_members", {}, dest_unit).json()["result"]["items"]
    assert [(m["member_no"], m["balance_fen"]) for m in roster] == [(a, 120_000)]
    # The old employer can no longer act on the member, nor transfer them back.
    r = city.call("dep.seal", {"member_no": a, "reason": "x"}, unit)
    assert r.status_code == 403 and r.json()["code"] == "OTHER_EMPLOYER"
    r = city.call("dep.transfer_local", {"member_no": b, "to_unit_no": city.unit_no}, unit)
    assert r.status_code == 422 and r.json()["code"] == "SAME_EMPLOYER"
    r = city.call("dep.transfer_local", {"member_no": b, "to_unit_no": "530199999999"}, unit)
    assert r.status_code == 404 and r.json()["code"] == "EMPLOYER_NOT_FOUND"
    city.ledger_ok()


def test_corrected_id_number_moves_the_login(city):
    from .conftest import make_id

    unit = city.login("unit", "unit01")
    member_no = city.open_member(unit, 21, "钱学")
    city.member_login(member_no)
    new_id = make_id(22)
    r = city.call("dep.member_change", {"member_no": member_no, "id_number": new_id},
                  city.staff("clerk"), channel="counter")
    assert r.status_code == 202, r.text
    command_id = int(r.headers["X-Command-Id"])
    city.decide(command_id, "rev1")
    assert city.decide(command_id, "rev2").json()["status"] == "succeeded"
    r = city.client.post("/api/v1/auth/login", json={"kind": "member", "login_name": new_id,
                                                     "password": PASSWORD})
    assert r.status_code == 200, r.text
