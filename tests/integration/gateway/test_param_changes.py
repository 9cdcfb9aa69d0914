"""Parameter changes (参数调整) are maker-checker: an administrator proposes a dated value,
an approver lets it take effect; values outside their range are refused at submission."""

from datetime import timedelta

from deposits.conftest import PASSWORD, TODAY
from sqlalchemy import func, select

from hpf.catalog import params
from hpf.catalog.models import ParamValue
from hpf.identity import service as identity
from hpf.kit.db import transaction

from .test_channel_controls import _change, _refused


def _admin(city):
    with transaction(city.url) as s:
        identity.create_staff(s, "adm", "系统管理员", PASSWORD, {"admin"})


def test_a_parameter_changes_only_after_a_second_person_approves(city):
    _admin(city)
    tomorrow = TODAY + timedelta(days=1)
    body = {"key": "auth.max_failures", "effective_from": tomorrow.isoformat(), "value": 6,
            "reason": "按安全评估意见放宽"}
    # A channel operator may not change parameters.
    _refused(_change(city, "mgmt.param", body, maker="ops"), 403, "ROLE_REQUIRED")
    r = _change(city, "mgmt.param", body, maker="adm")
    assert r.status_code == 202, r.text
    command_id = r.json()["command_id"]
    with transaction(city.url) as s:
        assert params.get(s, "auth.max_failures", tomorrow) == 5  # not yet
    # A second pending change of the same parameter waits its turn.
    _refused(_change(city, "mgmt.param", {**body, "value": 7}, maker="adm"), 409,
             "IN_FLIGHT_CONFLICT")
    _refused(city.decide(command_id, "adm"), 403, "MAKER_CANNOT_CHECK")
    assert city.decide(command_id, "rev2").json()["status"] == "succeeded"
    with transaction(city.url) as s:
        assert params.get(s, "auth.max_failures", tomorrow) == 6
        assert params.get(s, "auth.max_failures", TODAY) == 5  # history stays
        row = s.scalars(select(ParamValue).where(ParamValue.key == "auth.max_failures",
                                                 ParamValue.effective_from == tomorrow)).one()
        assert row.created_by is not None
    # The same day again: approved, but it cannot apply (the application fails, nothing written).
    r = _change(city, "mgmt.param", {**body, "value": 8}, maker="adm")
    decided = city.decide(r.json()["command_id"], "rev2").json()
    assert decided["status"] == "failed" and decided["error"]["code"] == "PARAM_DATE_TAKEN"
    with transaction(city.url) as s:
        assert params.get(s, "auth.max_failures", tomorrow) == 6


def test_values_outside_their_range_are_refused_at_submission(city):
    _admin(city)
    day = (TODAY + timedelta(days=3)).isoformat()
    bad = [
        {"key": "auth.max_failures", "value": 1},           # below 3
        {"key": "auth.max_failures", "value": "5"},         # not an integer
        {"key": "auth.max_failures", "value": True},        # not an integer either
        {"key": "deposit.rounding_unit", "value": "cent"},  # not a choice
        {"key": "identity.operator_certificate_required", "value": 1},
        {"key": "security.step_up_services", "value": "acct.unbind,no.such"},
        {"key": "no.such.param", "value": 1},
        {"key": "auth.max_failures", "value": 6, "effective_from": "2000-01-01"},  # past
        {"key": "auth.max_failures", "value": 6, "effective_from": "2099-01-01"},  # too far
        {"key": "auth.max_failures", "value": 6, "effective_from": "2026-02-30"},  # no such day
        {"key": "auth.max_failures", "value": 6, "extra": 1},                      # unknown field
    ]
    for fields in bad:
        body = {"effective_from": day, "reason": "测试", **fields}
        r = _change(city, "mgmt.param", body, maker="adm")
        assert r.status_code == 422, (fields, r.text)
        assert r.json()["code"] == "INVALID_PARAMS" and r.json()["message"], r.text
    with transaction(city.url) as s:
        assert s.scalar(select(func.count()).select_from(ParamValue).where(
            ParamValue.effective_from > TODAY)) == 0
    # A list of catalogue codes is stored tidied.
    r = _change(city, "mgmt.param", {"key": "security.step_up_services", "effective_from": day,
                                     "value": " acct.unbind , acct.sms_unsign ",
                                     "reason": "解约也需短信确认"}, maker="adm")
    assert r.status_code == 202, r.text
    assert city.decide(r.json()["command_id"], "rev2").json()["result"]["value"] == \
        "acct.unbind,acct.sms_unsign"
