"""Who may call what, on which channel: the gateway's refusals for the deposit services."""

from sqlalchemy import func, select

from hpf.deposits.models import Member
from hpf.gateway import registry
from hpf.gateway.models import Command
from hpf.kit.db import transaction


def _refused(r, status: int, code: str) -> dict:
    assert r.status_code == status and r.json()["code"] == code, r.text
    assert r.json()["message"]
    return r.json()


def test_an_operator_acts_only_on_their_own_employer_and_members(city):
    unit = city.login("unit", "unit01")
    mine = city.open_member(unit, 1, "卢青怡", 500_000)
    other_unit = city.employer(501, "滇西贸易有限公司", "unit02")
    other = city.login("unit", "unit02")
    theirs = city.open_member(other, 2, "王伟", 400_000)
    for code, params in [
        ("dep.seal", {"member_no": theirs, "reason": "x"}),
        ("dep.unseal", {"member_no": theirs}),
        ("dep.member_change", {"member_no": theirs, "phone": "13600001234"}),
        ("dep.transfer_local", {"member_no": theirs, "to_unit_no": city.unit_no}),
        ("dep.custody", {"member_no": theirs, "reason": "x"}),
        ("dep.transfer_remote_out", {"member_no": theirs, "to_centre": "上海市住房公积金管理中心",
                                     "to_account_no": "SH001", "letter_no": "SHLX0001"}),
        ("dep.base_adjust", {"unit_no": other_unit,
                             "rows": [{"member_no": theirs, "base_fen": 500_000}]}),
        ("dep.remit", {"unit_no": other_unit, "action": "generate", "period": 202601}),
        ("dep.unit_change", {"unit_no": other_unit, "address": "x"}),
        ("dep.ratio_adjust", {"unit_no": other_unit, "unit_ratio_bps": 1000,
                              "member_ratio_bps": 1000, "from_month": 202603, "reason": "x"}),
        ("dep.supplement", {"member_nos": [theirs], "months": [202512], "reason": "x"}),
        ("q.unit_info", {"unit_no": other_unit}),
        ("q.unit_members", {"unit_no": other_unit}),
        ("q.unit_deposits", {"unit_no": other_unit}),
        ("q.unit_business", {"unit_no": other_unit}),
    ]:
        _refused(city.call(code, params, unit), 403, "OTHER_EMPLOYER")
    # The roster shows only the operator's own people.
    roster = city.call("q.unit_members", {}, unit).json()["result"]["items"]
    assert [m["member_no"] for m in roster] == [mine]
    with transaction(city.url) as s:
        assert s.scalars(select(Member.status).where(Member.member_no == theirs)).one() == "01"
        refused = s.scalar(select(func.count()).select_from(Command).where(
            Command.status == "failed", Command.error_code == "OTHER_EMPLOYER"))
        assert refused == 15


def test_a_member_sees_only_their_own_account(city):
    unit = city.login("unit", "unit01")
    a = city.open_member(unit, 3, "赵敏", 500_000)
    b = city.open_member(unit, 4, "周杰", 500_000)
    me = city.member_login(a)
    for code in ("q.member_account", "q.member_details", "q.member_deposits"):
        _refused(city.call(code, {"member_no": b}, me), 403, "OTHER_MEMBER")
        assert city.call(code, {"member_no": a}, me).status_code == 200
    _refused(city.call("dep.member_change", {"member_no": b, "phone": "13600001234"}, me),
             403, "OTHER_MEMBER")
    _refused(city.call("dep.transfer_remote_in", {"member_no": b, "from_centre": "上海市中心",
                                                  "from_account_no": "SH001"}, me),
             403, "OTHER_MEMBER")
    account = city.call("q.member_account", {}, me).json()["result"]
    assert account["member_no"] == a
    # Member services are not the employer's, and employer services are not the member's.
    _refused(city.call("q.unit_info", {}, me), 403, "ACTOR_NOT_ALLOWED")
    _refused(city.call("dep.seal", {"member_no": a, "reason": "x"}, me), 403, "ACTOR_NOT_ALLOWED")
    _refused(city.call("q.member_account", {"member_no": a}, unit), 403, "ACTOR_NOT_ALLOWED")
    _refused(city.call("q.member_account", {"member_no": a}, {}), 401, "LOGIN_REQUIRED")
    _refused(city.call("dep.member_open", {"name": "x", "id_number": "x", "base_fen": 1}, {}),
             401, "LOGIN_REQUIRED")


def test_channels_and_the_catalogue(city, monkeypatch):
    unit = city.login("unit", "unit01")
    a = city.open_member(unit, 5, "钱多多", 500_000)
    me = city.member_login(a)
    body = _refused(city.call("q.member_deposits", {}, me, channel="sms"), 403,
                    "SERVICE_NOT_ON_CHANNEL")
    assert body["details"] == {"service": "q.member_deposits", "channel": "sms"}
    _refused(city.call("dep.remit", {"action": "status", "period": 202601}, unit, channel="app"),
             403, "SERVICE_NOT_ON_CHANNEL")
    _refused(city.call("dep.transfer_remote_out", {"to_centre": "上海市中心",
                                                   "to_account_no": "SH001",
                                                   "letter_no": "SHLX0001"}, me,
                       channel="wechat"), 403, "SERVICE_NOT_ON_CHANNEL")
    _refused(city.call("q.member_account", {}, me, channel="fax"), 403, "CHANNEL_MISMATCH")
    body = _refused(city.call("dep.nothing", {}, me), 404, "UNKNOWN_SERVICE")
    assert body["details"] == {"service": "dep.nothing"}
    body = _refused(city.call("loan.apply", {}, me), 404, "SERVICE_NOT_AVAILABLE")
    assert body["details"] == {"service": "loan.apply"}
    assert "贷款受理" in body["message"]
    _refused(city.call("q.member_account", {}, me, key="short"), 422, "INVALID_IDEMPOTENCY_KEY")

    # A counter-only service (here a stand-in for loan.settle, deployed on counter and kiosk)
    # sends a member to the counter even on a channel it is deployed on; staff do it there.
    monkeypatch.setitem(registry._handlers, "loan.settle", registry.Handler(
        "loan.settle", registry.NoParams, lambda ctx, p: {"done": True}))
    body = _refused(city.call("loan.settle", {}, me, channel="kiosk"), 403, "COUNTER_ONLY")
    assert "柜面" in body["message"]
    r = city.call("loan.settle", {}, city.staff("clerk"), channel="counter")
    assert r.status_code == 200 and r.json()["result"] == {"done": True}, r.text
    # The freeze, counter-only and staff-only, is refused to a member at the counter too.
    _refused(city.call("dep.freeze", {"member_no": a, "authority": "法院", "document_no": "x1"},
                       me, channel="counter"), 403, "ACTOR_NOT_ALLOWED")


def test_params_are_checked_before_the_business(city):
    unit = city.login("unit", "unit01")
    body = _refused(city.call("dep.remit", {"action": "burn", "period": 202601}, unit), 422,
                    "INVALID_PARAMS")
    assert body["details"]["errors"][0]["field"] == "action"
    _refused(city.call("dep.seal", {"member_no": "12ab", "reason": "x"}, unit), 422,
             "INVALID_PARAMS")
    _refused(city.call("dep.seal", {"member_no": "53010000000099", "reason": "x"}, unit), 404,
             "MEMBER_NOT_FOUND")
    _refused(city.call("dep.member_open", {"name": "x", "id_number": "123", "base_fen": 1},
                       unit), 422, "INVALID_ID_NUMBER")
    staff = city.staff("clerk")
    _refused(city.call("dep.seal", {"reason": "x"}, staff, channel="counter"), 422,
             "INVALID_PARAMS")
    _refused(city.call("q.unit_info", {}, staff, channel="counter"), 422, "UNIT_NO_REQUIRED")
    _refused(city.call("dep.member_change", {"phone": "13600001234"}, staff, channel="counter"),
             422, "MEMBER_NO_REQUIRED")
