"""Flexible-employment depositors: registration, direct debit agreement, months, termination."""

from sqlalchemy import select

from hpf.deposits.models import Employer, FlexibleAgreement, Member
from hpf.exchange.models import RegBankCard
from hpf.gateway.models import Command
from hpf.kit.db import transaction
from hpf.ledger.models import LedgerAccount, Posting


def luhn(first: str) -> str:
    """`first` completed with its Luhn check digit."""
    total = 0
    for i, c in enumerate(reversed(first)):
        n = int(c) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return first + str((10 - total % 10) % 10)


def _card(city, number: str, name: str, id_number: str, bank: str = "CCB") -> str:
    with transaction(city.url) as s:
        s.add(RegBankCard(card_no=number, bank_code=bank, holder_name=name,
                          holder_id_number=id_number))
    return number


def _state(city, member_no):
    with transaction(city.url) as s:
        m = s.scalars(select(Member).where(Member.member_no == member_no)).one()
        return (m.status, s.get(Employer, m.employer_id).kind, m.unit_ratio_bps,
                m.member_ratio_bps, s.get(LedgerAccount, m.account_id).balance_fen)


def test_flexible_depositor_from_registration_to_termination(city):
    clerk = city.staff("clerk")
    id_number = city.person(1, "卢青怡")
    other_id = city.person(2, "王伟")
    register = {"name": "卢青怡", "id_number": id_number, "phone": "13655556666",
                "base_fen": 586_600, "ratio_bps": 2000}
    r = city.call("dep.flexible_open", {**register, "ratio_bps": 900}, clerk, channel="counter")
    assert r.status_code == 422 and r.json()["code"] == "RATIO_OUT_OF_RANGE"  # 10%-24% combined
    r = city.call("dep.flexible_open", register, clerk, channel="counter")
    assert r.status_code == 202 and r.json()["approvals_required"] == 1, r.text
    command_id = int(r.headers["X-Command-Id"])
    body = city.approve(r, "rev1")
    assert body["status"] == "succeeded", body
    member_no = body["result"]["member_no"]
    assert body["result"] == {"member_no": member_no, "base_fen": 586_600, "ratio_bps": 2000}
    assert _state(city, member_no) == ("01", "flexible", 0, 2000, 0)
    with transaction(city.url) as s:
        assert s.get(Command, command_id).member_id is not None  # filed under the new member

    someone_else = _card(city, luhn("621700000000000001"), "王伟", other_id)
    own = _card(city, luhn("621700000000000002"), "卢青怡", id_number)
    sign = {"member_no": member_no, "action": "sign", "bank_code": "CCB", "debit_day": 5,
            "consent": True}
    r = city.call("dep.flexible_pay", {**sign, "card_no": someone_else}, clerk, channel="counter")
    assert r.status_code == 422 and r.json()["code"] == "CARD_NOT_OWN"
    r = city.call("dep.flexible_pay", {**sign, "card_no": luhn("621700000000000003")}, clerk,
                  channel="counter")
    assert r.status_code == 422 and r.json()["code"] == "CARD_NOT_OWN"  # unknown to the bank
    r = city.call("dep.flexible_pay", {**sign, "card_no": own, "bank_code": "ICBC"}, clerk,
                  channel="counter")
    assert r.status_code == 422 and r.json()["code"] == "CARD_NOT_OWN"  # another bank's card
    r = city.call("dep.flexible_pay", {"member_no": member_no, "action": "sign"}, clerk,
                  channel="counter")
    assert r.status_code == 422 and r.json()["code"] == "AGREEMENT_FIELDS_REQUIRED"

    me = city.member_login(member_no)
    # Without the member's consent the card details do not go to the bank.
    r = city.call("dep.flexible_pay", {"action": "sign", "bank_code": "CCB", "card_no": own,
                                       "debit_day": 5}, me, channel="app")
    assert r.status_code == 403 and r.json()["code"] == "CONSENT_REQUIRED", r.text
    r = city.call("dep.flexible_pay", {"action": "sign", "bank_code": "CCB", "card_no": own,
                                       "debit_day": 5, "consent": True}, me, channel="app")
    assert r.status_code == 200, r.text
    consents = city.client.get("/api/v1/consents", headers={**me, "X-HPF-Channel": "app"})
    assert [(c["party"], c["purpose"], c["live"]) for c in consents.json()["items"]] == [
        ("bank", "direct_debit", True)]
    agreement = r.json()["result"]
    # 5866 × 20% = 1173.20 → 1173 yuan (rounded to whole yuan).
    assert agreement == {"bank_code": "CCB", "card_no": own[:4] + "****" + own[-4:],
                         "base_fen": 586_600, "ratio_bps": 2000, "monthly_fen": 117_300,
                         "debit_day": 5, "status": "active", "paid_through": None}
    r = city.call("dep.flexible_pay", {"action": "sign", "bank_code": "CCB", "card_no": own,
                                       "debit_day": 6}, me, channel="app")
    assert r.status_code == 409 and r.json()["code"] == "AGREEMENT_EXISTS"

    r = city.call("dep.flexible_pay", {"action": "pay", "period": 202602}, me, channel="app")
    assert r.status_code == 422 and r.json()["code"] == "MONTH_BEFORE_REGISTRATION"
    r = city.call("dep.flexible_pay", {"action": "pay", "period": 202604}, me, channel="app")
    assert r.status_code == 422 and r.json()["code"] == "MONTH_IN_FUTURE"
    r = city.call("dep.flexible_pay", {"action": "pay"}, me, channel="app")  # this month
    assert r.status_code == 200, r.text
    assert (r.json()["result"]["period"], r.json()["result"]["amount_fen"],
            r.json()["result"]["status"]) == (202603, 117_300, "matched")
    r = city.call("dep.flexible_pay", {"action": "pay", "period": 202603}, me, channel="app")
    assert r.status_code == 409 and r.json()["code"] == "MONTH_ALREADY_PAID"
    assert _state(city, member_no)[4] == 117_300
    deposits = city.call("q.member_deposits", {}, me, channel="app").json()["result"]["items"]
    assert [(d["period"], d["kind"], d["unit_fen"], d["member_fen"]) for d in deposits] == [
        (202603, "flexible", 0, 117_300)]
    city.ledger_ok()

    r = city.call("dep.flexible_pay", {"action": "change", "base_fen": 600_000,
                                       "ratio_bps": 1500, "debit_day": 20}, me, channel="app")
    assert r.status_code == 200, r.text
    assert (r.json()["result"]["monthly_fen"], r.json()["result"]["debit_day"],
            r.json()["result"]["paid_through"]) == (90_000, 20, 202603)
    r = city.call("dep.flexible_pay", {"action": "change", "ratio_bps": 2500}, me, channel="app")
    assert r.status_code == 422 and r.json()["code"] == "RATIO_OUT_OF_RANGE"
    r = city.call("dep.flexible_pay", {"action": "terminate"}, me, channel="app")
    assert r.status_code == 200 and r.json()["result"]["status"] == "terminated"
    assert _state(city, member_no)[:2] == ("02", "flexible")
    r = city.call("dep.flexible_pay", {"action": "pay", "period": 202603}, me, channel="app")
    assert r.status_code == 404 and r.json()["code"] == "NO_AGREEMENT"
    with transaction(city.url) as s:
        assert s.scalars(select(FlexibleAgreement.status)).one() == "terminated"
        types = s.scalars(select(Posting.entry_type).join(
            Member, Member.account_id == Posting.account_id)).all()
        assert types == ["flexible"]
    city.ledger_ok()


def test_sealed_member_registers_online_and_an_active_one_cannot(city):
    unit = city.login("unit", "unit01")
    sealed = city.open_member(unit, 3, "赵敏", 500_000)
    active = city.open_member(unit, 4, "周杰", 500_000)
    city.call("dep.seal", {"member_no": sealed, "reason": "辞职"}, unit)
    with transaction(city.url) as s:
        ids = dict(s.execute(select(Member.member_no, Member.id_number)).all())
    me = city.member_login(sealed)
    r = city.call("dep.flexible_open", {"name": "周杰", "id_number": ids[active],
                                        "phone": "13655550000", "base_fen": 500_000,
                                        "ratio_bps": 2400}, me, channel="app")
    assert r.status_code == 403 and r.json()["code"] == "OTHER_MEMBER"
    r = city.call("dep.flexible_open", {"name": "周杰", "id_number": ids[active],
                                        "phone": "13655550000", "base_fen": 500_000,
                                        "ratio_bps": 2400}, city.staff("clerk"),
                  channel="counter")
    assert r.status_code == 409 and r.json()["code"] == "MEMBER_ACTIVE"
    r = city.call("dep.flexible_open", {"name": "赵敏", "id_number": ids[sealed],
                                        "phone": "13655551111", "base_fen": 400_000,
                                        "ratio_bps": 2400}, me, channel="app")
    assert r.status_code == 202, r.text
    assert city.approve(r, "rev2")["status"] == "succeeded"
    assert _state(city, sealed) == ("01", "flexible", 0, 2400, 0)
    account = city.call("q.member_account", {}, me, channel="app").json()["result"]
    assert (account["unit_name"], account["monthly_total_fen"]) == ("灵活就业人员缴存户", 96_000)
    # An employer's member cannot use the flexible services.
    r = city.call("dep.flexible_pay", {"member_no": active, "action": "pay"}, city.staff("clerk"),
                  channel="counter")
    assert r.status_code == 404 and r.json()["code"] == "NO_AGREEMENT"
    r = city.call("dep.flexible_pay", {"member_no": active, "action": "sign", "bank_code": "CCB",
                                       "card_no": luhn("621700000000000004"), "debit_day": 1},
                  city.staff("clerk"), channel="counter")
    assert r.status_code == 409 and r.json()["code"] == "NOT_FLEXIBLE"


def test_monthly_flexible_debit_job_collects_each_agreement_once(city):
    from datetime import date

    from hpf.deposits.flexible import run_flexible_debit
    from hpf.kit import clock
    from hpf.kit.db import session_factory

    clerk = city.staff("clerk")
    id_number = city.person(5, "钱钟书")
    r = city.call("dep.flexible_open", {"name": "钱钟书", "id_number": id_number,
                                        "phone": "13655557777", "base_fen": 500_000,
                                        "ratio_bps": 2400}, clerk, channel="counter")
    member_no = city.approve(r, "rev1")["result"]["member_no"]
    card = _card(city, luhn("621700000000000009"), "钱钟书", id_number)
    r = city.call("dep.flexible_pay", {"member_no": member_no, "action": "sign",
                                       "bank_code": "CCB", "card_no": card, "debit_day": 5,
                                       "consent": True}, clerk, channel="counter")
    assert r.status_code == 200, r.text
    factory = session_factory(city.url)
    with clock.frozen(date(2026, 4, 5)):
        first = run_flexible_debit(factory, 202604)
        again = run_flexible_debit(factory, 202604)
    # 5000 × 24% = 1200 yuan a month.
    assert (first.rows, first.amount_fen) == (1, 120_000)
    assert again.already_done
    assert _state(city, member_no)[4] == 120_000
    city.ledger_ok()
