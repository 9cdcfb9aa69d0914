"""Sealed columns: encrypted on the way in, decrypted on the way out, never compared in SQL;
blind indexes of ID numbers and phones are the same for every accepted spelling."""

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select, text

from hpf.kit.crypto import field_cipher
from hpf.kit.errors import UpstreamUnavailable
from hpf.kit.sealed import Sealed, id_number_index, phone_index, recipient_index, seal, unseal

ID18 = "11010519491231002X"
ID15 = "110105491231002"  # the 15-digit form of ID18


@pytest.fixture
def table() -> tuple:
    engine = create_engine("sqlite://")
    meta = MetaData()
    people = Table("people", meta, Column("id", Integer, primary_key=True),
                   Column("id_number", Sealed("people.id_number")),
                   Column("phone", Sealed("people.phone")))
    meta.create_all(engine)
    return engine, people


def test_round_trip_stores_only_ciphertext(table) -> None:
    engine, people = table
    with engine.begin() as conn:
        conn.execute(insert(people), [{"id": 1, "id_number": ID18, "phone": "13800001111"},
                                      {"id": 2, "id_number": ID18, "phone": None}])
        raw = conn.execute(text("SELECT id_number, phone FROM people ORDER BY id")).all()
        back = conn.execute(select(people.c.id_number, people.c.phone)
                            .order_by(people.c.id)).all()
    assert back == [(ID18, "13800001111"), (ID18, None)]
    assert all(v is None or (v.startswith("v1.") and "1380000" not in v and ID18 not in v)
               for row in raw for v in row)
    # A fresh nonce each time: equal plaintexts do not give equal ciphertexts.
    assert raw[0][0] != raw[1][0]
    assert raw[1][1] is None


@pytest.mark.parametrize("build", [
    lambda c: c == ID18, lambda c: c != ID18, lambda c: c.like("1101%"),
    lambda c: c.ilike("1101%"), lambda c: c.in_([ID18]), lambda c: c.startswith("1101"),
    lambda c: c.contains("1949"), lambda c: c > "1", lambda c: ID18 == c,  # noqa: SIM300
], ids=["eq", "ne", "like", "ilike", "in", "startswith", "contains", "gt", "reversed-eq"])
def test_comparisons_refused(table, build) -> None:
    _, people = table
    with pytest.raises(TypeError, match="people.id_number.*blind index"):
        build(people.c.id_number)


def test_null_tests_and_ordering_allowed(table) -> None:
    engine, people = table
    with engine.begin() as conn:
        conn.execute(insert(people), [{"id": 1, "id_number": ID18, "phone": None}])
        assert conn.execute(select(people.c.id).where(people.c.phone.is_(None))).scalar() == 1
        assert conn.execute(select(people.c.id).where(people.c.id_number.is_not(None))
                            .order_by(people.c.id_number.desc())).scalar() == 1


def test_context_bound_and_key_mismatch_is_503() -> None:
    token = seal(ID18, "a.b")
    assert unseal(token, "a.b") == ID18
    assert seal(None, "a.b") is None and unseal(None, "a.b") is None
    with pytest.raises(UpstreamUnavailable) as caught:
        unseal(token, "a.c")
    assert caught.value.code == "KEY_MISMATCH"


def test_id_number_index_normalises() -> None:
    key = id_number_index(ID18)
    assert len(key) == 32
    assert id_number_index(ID15) == key
    assert id_number_index(" 11010519491231002x ") == key
    assert id_number_index("110105194912310038") != key
    assert key == field_cipher().blind_index(ID18, "id_number")


def test_phone_and_recipient_indexes() -> None:
    assert phone_index("138 0000 1111") == phone_index("13800001111") == \
        recipient_index(" 13800001111")
    assert phone_index("13800001111") != phone_index("13800001112")
    assert recipient_index("oWx-openid_123") != recipient_index("oWx-openid_124")
    assert phone_index("13800001111") != id_number_index("13800001111")
