"""Who sees ID numbers and phones in full (hpf.identity.visibility)."""

import pytest

from hpf.gateway.principal import SYSTEM, Principal
from hpf.identity.visibility import employer_view, member_view, sees_member

ID18 = "11010519491231002X"


def _member_data() -> dict:
    return {"id_number": ID18, "phone": "13800001111", "name": "张三"}


def staff(*roles: str) -> Principal:
    return Principal(kind="staff", user_id=9, roles=frozenset(roles))


@pytest.mark.parametrize(("principal", "full"), [
    (Principal(kind="member", member_id=1), True),
    (Principal(kind="member", member_id=2), False),
    (Principal(kind="unit", employer_id=1), False),
    (Principal(kind="anonymous"), False),
    (staff("clerk"), True), (staff("reviewer"), True), (staff("approver"), True),
    (staff("admin"), True), (staff("auditor"), False), (staff("channel_operator"), False),
    (staff("publisher"), False), (staff("auditor", "clerk"), True), (SYSTEM, True),
], ids=["self", "other-member", "employer", "anonymous", "clerk", "reviewer", "approver",
        "admin", "auditor", "channel-operator", "publisher", "auditor+clerk", "system"])
def test_member_view(principal, full) -> None:
    assert sees_member(principal, 1) is full
    shown = member_view(principal, 1, _member_data())
    if full:
        assert shown == _member_data()
    else:
        assert shown == {"id_number": "110105********002X", "phone": "138****1111",
                         "name": "张三"}


def test_member_without_id_sees_nothing_in_full() -> None:
    assert not sees_member(Principal(kind="member", member_id=None), None)


def test_missing_phone_stays_missing() -> None:
    shown = member_view(staff("auditor"), 1, {"id_number": ID18, "phone": None})
    assert shown == {"id_number": "110105********002X", "phone": None}


def test_employer_contact_phone() -> None:
    data = {"contact_phone": "13900001111", "name": "单位"}
    assert employer_view(Principal(kind="unit", employer_id=5), 5, dict(data)) == data
    assert employer_view(Principal(kind="unit", employer_id=6), 5, dict(data))[
        "contact_phone"] == "139****1111"
    assert employer_view(staff("auditor"), 5, dict(data))["contact_phone"] == "139****1111"
    assert employer_view(staff("clerk"), 5, dict(data)) == data
