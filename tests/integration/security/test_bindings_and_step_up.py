"""Channel bindings with unbinding by SMS step-up (acct.unbind), and the step-up rules."""

from sqlalchemy import select, text

from hpf.identity.models import OtpCode
from hpf.identity.security_models import ChannelBinding
from hpf.kit.db import transaction
from hpf.notices.models import OutboxMessage

OPENID = "oGZUI0egBJY1zhBYw2KhdUfwVJJE"


def _member(city, n=21, phone="13800000021"):
    unit = city.login("unit", "unit01")
    member_no = city.open_member(unit, n, f"绑定{n}", 400_000, phone=phone)
    return member_no, city.member_login(member_no)


def _post(city, path, body, headers, channel="wechat"):
    return city.client.post(path, json=body, headers={**headers, "X-HPF-Channel": channel})


def test_bind_login_by_binding_and_unbind_with_sms_code(city):
    _, me = _member(city)
    r = _post(city, "/api/v1/auth/bindings", {"external_id": OPENID, "label": "我的微信"}, me)
    assert r.status_code == 201, r.text
    binding = r.json()
    assert binding["kind"] == "wechat_openid" and binding["external"] == "oGZ****JJE"
    # Binding again is a retry, not a second binding.
    assert _post(city, "/api/v1/auth/bindings", {"external_id": OPENID}, me).json()[
        "binding_id"] == binding["binding_id"]
    # The openid is stored encrypted, never as typed.
    with transaction(city.url) as s:
        raw = s.execute(text("SELECT external_enc, external_bidx FROM idn_channel_binding")).one()
        assert OPENID not in raw[0] and OPENID not in raw[1]
        # The person is told their account gained a binding (账户变动通知).
        assert "绑定新的渠道账号" in s.scalars(select(OutboxMessage.content)
                                         .order_by(OutboxMessage.id.desc())).first()

    # The WeChat client signs the member in by the openid alone.
    r = _post(city, "/api/v1/auth/login/binding", {"external_id": OPENID}, {})
    assert r.status_code == 200, r.text
    by_wechat = {"Authorization": f"Bearer {r.json()['token']}"}
    city.client.cookies.clear()
    # ... but only the WeChat client: the app's client cannot use a WeChat binding.
    r = _post(city, "/api/v1/auth/login/binding", {"external_id": OPENID}, {}, channel="app")
    assert r.status_code == 401 and r.json()["code"] == "NOT_BOUND"

    unbind = {"binding_id": binding["binding_id"]}
    r = city.call("acct.unbind", unbind, by_wechat, channel="wechat")
    assert r.status_code == 401 and r.json()["code"] == "SMS_CODE_REQUIRED", r.text
    wrong = {**by_wechat, "X-HPF-SMS-Code": "000000"}
    with_code = city.sms_code(by_wechat, "acct.unbind")
    if with_code["X-HPF-SMS-Code"] == "000000":
        wrong["X-HPF-SMS-Code"] = "111111"
    r = city.call("acct.unbind", unbind, wrong, channel="wechat")
    assert r.status_code == 422 and r.json()["code"] == "OTP_INVALID", r.text
    # The wrong guess was counted although the application was refused.
    with transaction(city.url) as s:
        assert s.scalars(select(OtpCode.attempts).order_by(OtpCode.id.desc())).first() == 1
    r = city.call("acct.unbind", unbind, with_code, channel="wechat")
    assert r.status_code == 200, r.text
    assert r.json()["result"]["unbound_at"] is not None
    # The code is spent; the binding is gone for login; the history row stays.
    r = city.call("acct.unbind", unbind, with_code, channel="wechat")
    assert r.json()["code"] == "OTP_INVALID"
    r = _post(city, "/api/v1/auth/login/binding", {"external_id": OPENID}, {})
    assert r.status_code == 401 and r.json()["code"] == "NOT_BOUND"
    with transaction(city.url) as s:
        assert s.scalar(select(ChannelBinding.unbound_by)) is not None


def test_one_openid_cannot_sign_two_people_in(city):
    _, me = _member(city, 22, "13800000022")
    _, other = _member(city, 23, "13800000023")
    assert _post(city, "/api/v1/auth/bindings", {"external_id": OPENID}, me).status_code == 201
    r = _post(city, "/api/v1/auth/bindings", {"external_id": OPENID}, other)
    assert r.status_code == 409 and r.json()["code"] == "BINDING_TAKEN"
    # The other member cannot unbind (or even see) someone else's binding.
    with transaction(city.url) as s:
        bid = s.scalar(select(ChannelBinding.id))
    r = city.call("acct.unbind", {"binding_id": bid}, city.sms_code(other, "acct.unbind"),
                  channel="wechat")
    assert r.status_code == 404 and r.json()["code"] == "NO_BINDING"
    # Bad input: a channel without bindings, an empty or oversized id, anonymous binding.
    r = _post(city, "/api/v1/auth/bindings", {"external_id": OPENID}, me, channel="hall")
    assert r.status_code == 422 and r.json()["code"] == "BINDING_NOT_SUPPORTED"
    assert _post(city, "/api/v1/auth/bindings", {"external_id": ""}, me).status_code == 422
    assert _post(city, "/api/v1/auth/bindings", {"external_id": "x" * 129}, me).status_code == 422
    r = _post(city, "/api/v1/auth/bindings", {"external_id": "abc"}, {})
    assert r.status_code == 401 and r.json()["code"] == "LOGIN_REQUIRED"


def test_step_up_asks_only_where_it_must(city):
    _, me = _member(city, 24, "13800000024")
    # A service that needs no code says so rather than texting one.
    r = _post(city, "/api/v1/auth/sms-code/step-up", {"service": "q.member_account"}, me)
    assert r.status_code == 422 and r.json()["code"] == "SMS_CODE_NOT_NEEDED"
    r = _post(city, "/api/v1/auth/sms-code/step-up", {"service": "nope.nope"}, me)
    assert r.status_code == 404
    # A refusal that comes first is given before any code is asked for.
    r = city.call("acct.unbind", {"binding_id": 1}, me, channel="kiosk")
    assert r.json()["code"] == "SERVICE_NOT_ON_CHANNEL"
    r = city.call("acct.unbind", {"binding_id": "x"}, me, channel="wechat")
    assert r.status_code == 422 and r.json()["code"] == "INVALID_PARAMS", r.text
    r = city.call("acct.unbind", {"binding_id": 1}, {**me, "X-HPF-SMS-Code": "12ab"},
                  channel="wechat")
    assert r.status_code == 422 and r.json()["code"] == "OTP_INVALID"
    # A member without a phone on record is sent to the counter.
    _, nophone = _member(city, 25, None)
    r = _post(city, "/api/v1/auth/sms-code/step-up", {"service": "acct.unbind"}, nophone)
    assert r.status_code == 409 and r.json()["code"] == "NO_PHONE_ON_FILE"
