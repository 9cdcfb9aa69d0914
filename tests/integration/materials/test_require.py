"""`require`: an application takes the materials it needs, once; every refusal by its code."""

import threading

import pytest
from sqlalchemy import select

from hpf.audit.models import AuditRecord
from hpf.kit.db import transaction
from hpf.kit.errors import Conflict, Forbidden, HpfError, InvalidInput, NotFound
from hpf.materials import service as materials
from hpf.materials.models import Material

from .conftest import JPEG, PDF, PNG

NAMES = {"rent_contract": "租房合同", "invoice": "发票", "id_card": "身份证"}
MEMBER, OTHER = 101, 202


def _store(url, owner_id, code, content, owner_kind="member", name="a"):
    ext = {PDF: ".pdf", PNG: ".png", JPEG: ".jpg"}[content]
    with transaction(url) as s:
        return materials.store(s, owner_kind, owner_id, 7, "hall", code, name + ext,
                               content).id


def _require(url, ids, codes, command_id, owner_id=MEMBER, owner_kind="member"):
    with transaction(url) as s:
        return [m.id for m in materials.require(s, owner_kind, owner_id, ids, codes,
                                                command_id, NAMES)]


def _used_by(url, *ids):
    with transaction(url) as s:
        return [s.get(Material, i).used_by_command_id for i in ids]


def test_require_takes_the_needed_materials_once(db_url):
    contract = _store(db_url, MEMBER, "rent_contract", PDF)
    invoice = _store(db_url, MEMBER, "invoice", PNG)
    extra = _store(db_url, MEMBER, "id_card", JPEG)
    assert _require(db_url, [invoice, contract, extra, contract],
                    ["rent_contract", "invoice"], 9001) == sorted([contract, invoice, extra])
    assert _used_by(db_url, contract, invoice, extra) == [9001, 9001, 9001]
    # The same application again (a retried handler) is harmless.
    assert _require(db_url, [contract, invoice], ["rent_contract", "invoice"], 9001) \
        == sorted([contract, invoice])
    # Another application may not reuse them.
    with pytest.raises(Conflict) as refused:
        _require(db_url, [contract, invoice], ["rent_contract"], 9002)
    assert refused.value.code == "MATERIAL_USED" and refused.value.status == 409
    assert refused.value.details == {"material_ids": sorted([contract, invoice])}
    assert _used_by(db_url, contract, invoice) == [9001, 9001]
    # Withdrawn before a decision: the materials are free for a new application.
    with transaction(db_url) as s:
        assert materials.release(s, 9001) == 3
    assert _require(db_url, [contract], ["rent_contract"], 9002) == [contract]
    assert _used_by(db_url, contract, invoice) == [9002, None]


def test_missing_codes_are_named_in_chinese_and_nothing_is_taken(db_url):
    contract = _store(db_url, MEMBER, "rent_contract", PDF)
    with pytest.raises(InvalidInput) as refused:
        _require(db_url, [contract], ["rent_contract", "invoice", "id_card"], 9001)
    assert refused.value.code == "MATERIAL_MISSING" and refused.value.status == 422
    assert refused.value.message == "缺少申请材料：发票、身份证"
    assert refused.value.details == {"missing": ["invoice", "id_card"]}
    # A code without a Chinese name is shown by its code rather than dropped.
    with pytest.raises(InvalidInput) as refused, transaction(db_url) as s:
        materials.require(s, "member", MEMBER, [], ["marriage_certificate"], 9001)
    assert refused.value.message == "缺少申请材料：marriage_certificate"
    assert _used_by(db_url, contract) == [None]
    # Nothing needed, nothing given: an empty list.
    assert _require(db_url, [], [], 9001) == []


def test_unknown_foreign_and_too_many_materials_are_refused(db_url):
    mine = _store(db_url, MEMBER, "rent_contract", PDF)
    theirs = _store(db_url, OTHER, "rent_contract", PDF)
    employers = _store(db_url, MEMBER, "rent_contract", PDF, owner_kind="employer")
    with pytest.raises(NotFound) as refused:
        _require(db_url, [mine, theirs, 999_999], ["rent_contract"], 9001)
    assert (refused.value.code, refused.value.status) == ("MATERIAL_NOT_FOUND", 404)
    assert refused.value.details == {"material_ids": [999_999]}
    with pytest.raises(Forbidden) as refused:
        _require(db_url, [mine, theirs], ["rent_contract"], 9001)
    assert (refused.value.code, refused.value.status) == ("MATERIAL_NOT_YOURS", 403)
    assert refused.value.details == {"material_ids": [theirs]}
    # Same owner id, other kind of owner: not the member's either.
    with pytest.raises(Forbidden) as refused:
        _require(db_url, [employers], ["rent_contract"], 9001)
    assert refused.value.code == "MATERIAL_NOT_YOURS"
    with pytest.raises(InvalidInput) as refused:
        _require(db_url, list(range(1, 22)), [], 9001)
    assert refused.value.code == "MATERIAL_TOO_MANY"
    assert _used_by(db_url, mine, theirs, employers) == [None, None, None]


def test_an_owner_may_hold_only_so_many_unused_materials(db_url, monkeypatch):
    monkeypatch.setattr(materials, "MAX_UNUSED_PER_OWNER", 2)
    first = _store(db_url, MEMBER, "rent_contract", PDF)
    _store(db_url, MEMBER, "invoice", PNG)
    with pytest.raises(Conflict) as refused:
        _store(db_url, MEMBER, "id_card", JPEG)
    assert refused.value.code == "MATERIAL_LIMIT" and refused.value.status == 409
    # A retried upload of a held file is still answered; another owner is not affected.
    assert _store(db_url, MEMBER, "rent_contract", PDF) == first
    _store(db_url, OTHER, "id_card", JPEG)
    # Using one makes room.
    _require(db_url, [first], ["rent_contract"], 9001)
    _store(db_url, MEMBER, "id_card", JPEG)


def test_store_audits_each_upload(db_url):
    mid = _store(db_url, MEMBER, "rent_contract", PDF)
    with transaction(db_url) as s:
        rows = s.scalars(select(AuditRecord).where(AuditRecord.event == "material.upload")).all()
    assert [(r.actor_kind, r.actor_id, r.channel, r.target, r.outcome) for r in rows] == [
        ("member", 7, "hall", f"material:{mid}", "success")]


def test_two_applications_racing_for_one_material_one_wins(db_url):
    contract = _store(db_url, MEMBER, "rent_contract", PDF)
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def apply(command_id: int) -> None:
        barrier.wait()
        try:
            _require(db_url, [contract], ["rent_contract"], command_id)
            outcomes[command_id] = "ok"
        except HpfError as exc:
            outcomes[command_id] = exc.code

    threads = [threading.Thread(target=apply, args=(c,)) for c in (9001, 9002)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes.values()) == ["MATERIAL_USED", "ok"]
    winner = next(c for c, outcome in outcomes.items() if outcome == "ok")
    assert _used_by(db_url, contract) == [winner]
