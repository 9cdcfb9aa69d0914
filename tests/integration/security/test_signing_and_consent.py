"""12329 SMS signing: one state on every channel; remote signing by bank card under consent."""

from sqlalchemy import func, select

from hpf.deposits.models import Member
from hpf.exchange.models import RegBankCard
from hpf.identity.security_models import Consent, SmsSigning
from hpf.kit.db import transaction

CARD = "6222020200112233445"


def _member(city, n, phone="13800000031", card=True):
    unit = city.login("unit", "unit01")
    member_no = city.open_member(unit, n, f"签约{n}", 400_000, phone=phone)
    if card:
        with transaction(city.url) as s:
            m = s.scalars(select(Member).where(Member.member_no == member_no)).one()
            s.add(RegBankCard(card_no=CARD, bank_code="ICBC", holder_name=m.name,
                              holder_id_number=m.id_number, status="active"))
    return member_no, city.member_login(member_no)


def _state(city, me, channel="hall"):
    r = city.client.get("/api/v1/auth/sms-signing", headers={**me, "X-HPF-Channel": channel})
    assert r.status_code == 200, r.text
    return r.json()


def test_remote_signing_needs_own_card_and_consent_and_every_channel_sees_it(city):
    member_no, me = _member(city, 31)
    assert _state(city, me)["status"] == "unsigned"
    sign = {"bank_code": "ICBC", "card_no": CARD}
    # The card holder's name and ID number would go to the bank: not without consent.
    r = city.call("acct.sms_sign", sign, me, channel="app")
    assert r.status_code == 403 and r.json()["code"] == "CONSENT_REQUIRED", r.text
    r = city.call("acct.sms_sign", {"bank_code": "ICBC", "card_no": "6222020200199999999",
                                    "consent": True}, me, channel="app")
    assert r.status_code == 422 and r.json()["code"] == "CARD_NOT_OWN"
    # Nothing of a refused application stays: not even the consent it carried.
    with transaction(city.url) as s:
        assert s.scalar(select(func.count()).select_from(Consent)) == 0
    r = city.call("acct.sms_sign", {**sign, "consent": True}, me, channel="app")
    assert r.status_code == 200, r.text
    assert r.json()["result"]["method"] == "bank_card" and r.json()["result"]["version"] == 1
    # The same state on WeChat and on the hall; signing twice is refused.
    for channel in ("wechat", "hall"):
        assert _state(city, me, channel)["status"] == "signed"
    r = city.call("acct.sms_sign", {**sign, "consent": True}, me, channel="wechat")
    assert r.status_code == 409 and r.json()["code"] == "ALREADY_SIGNED"
    # The consent is on record and can be withdrawn.
    r = city.client.get("/api/v1/consents", headers={**me, "X-HPF-Channel": "hall"})
    (consent,) = r.json()["items"]
    assert (consent["party"], consent["purpose"], consent["live"]) == (
        "bank", "card_verification", True)
    r = city.client.post(f"/api/v1/consents/{consent['consent_id']}/revoke",
                         headers={**me, "X-HPF-Channel": "hall"})
    assert r.status_code == 200 and r.json()["live"] is False

    # Cancelled at the counter: the member's own channels see it at once.
    clerk = city.staff("clerk")
    r = city.call("acct.sms_unsign", {"member_no": member_no}, clerk, channel="counter")
    assert r.status_code == 200, r.text
    state = _state(city, me, "app")
    assert (state["status"], state["version"]) == ("cancelled", 2)
    # Signed again at the counter: method counter, no card needed.
    r = city.call("acct.sms_sign", {"member_no": member_no}, clerk, channel="counter")
    assert r.json()["result"]["method"] == "counter" and r.json()["result"]["version"] == 3
    with transaction(city.url) as s:
        assert s.scalar(select(func.count()).select_from(SmsSigning)) == 1


def test_sms_channel_signing_and_refusals(city):
    member_no, me = _member(city, 32, "13800000032", card=False)
    r = city.call("acct.sms_unsign", {}, me, channel="sms")
    assert r.status_code == 409 and r.json()["code"] == "NOT_SIGNED"
    r = city.call("acct.sms_sign", {}, me, channel="sms")
    assert r.status_code == 200 and r.json()["result"]["method"] == "sms_code", r.text
    # Another member cannot sign for this one; a unit operator cannot sign at all.
    _, other = _member(city, 33, "13800000033", card=False)
    r = city.call("acct.sms_unsign", {"member_no": member_no}, other, channel="sms")
    assert r.status_code == 403 and r.json()["code"] == "OTHER_MEMBER"
    r = city.call("acct.sms_sign", {"member_no": member_no}, city.login("unit", "unit01"))
    assert r.status_code == 403
    # Bad input: unknown bank, malformed card, unknown consent party.
    bad = [({"bank_code": "NOPE", "card_no": CARD, "consent": True}, "UNKNOWN_BANK"),
           ({"bank_code": "ICBC", "card_no": "12ab"}, "INVALID_PARAMS"),
           ({"bank_code": "ICBC"}, "CARD_REQUIRED")]
    for body, code in bad:
        r = city.call("acct.sms_sign", body, other, channel="app")
        assert r.status_code == 422 and r.json()["code"] == code, (body, r.text)
    r = city.client.post("/api/v1/consents", json={"party": "nsa", "purpose": "transfer"},
                         headers={**other, "X-HPF-Channel": "hall"})
    assert r.status_code == 422 and r.json()["code"] == "UNKNOWN_PARTY"
    r = city.client.post("/api/v1/consents/99999/revoke", headers={**other, "X-HPF-Channel": "hall"})
    assert r.status_code == 404 and r.json()["code"] == "NO_CONSENT"
