"""Material file types by magic bytes, cleaned file names and the owner of a caller (pure)."""

import pytest

from hpf.gateway.principal import Principal
from hpf.kit.crypto import FieldCipher
from hpf.kit.errors import Forbidden, InvalidInput
from hpf.materials.service import JPEG, PDF, PNG, clean_file_name, detect_type, owner_of


@pytest.mark.parametrize(("content", "expected"), [
    (b"%PDF-1.4\n", PDF), (b"\xff\xd8\xff\xe0", JPEG), (b"\x89PNG\r\n\x1a\nIHDR", PNG),
    (b"%PDF", None),  # too short to be the header
    (b" %PDF-1.4", None), (b"GIF89a", None), (b"PK\x03\x04", None), (b"", None),
    (b"\x89PNG\r\n", None), (b"<svg xmlns=", None),
])
def test_type_by_magic_bytes(content, expected):
    assert detect_type(content) == expected


@pytest.mark.parametrize(("name", "content_type", "expected"), [
    ("租房合同.pdf", PDF, "租房合同.pdf"),
    ("../../etc/passwd.pdf", PDF, "passwd.pdf"),
    ("C:\\Users\\张三\\发票.PNG", PNG, "发票.png"),
    ("合同\u202egpj.pdf", PDF, "合同gpj.pdf"),  # a right-to-left override would disguise it
    ("a\x00b\r\n.jpeg", JPEG, "ab.jpeg"),
    ('合"同<1>|?*.pdf', PDF, "合同1.pdf"),
    ("blob", JPEG, "blob.jpg"),  # phones send names without an extension
    ("scan.docx", PDF, "scan.docx.pdf"),
    ("", PNG, "材料.png"), (None, PDF, "材料.pdf"), ("...", PDF, "材料.pdf"), (".pdf", PDF, "pdf.pdf"),
    ("张" * 150 + ".pdf", PDF, "张" * 96 + ".pdf"),
    ("x" * 150, PNG, "x" * 96 + ".png"),
])
def test_file_names_are_cleaned(name, content_type, expected):
    cleaned = clean_file_name(name, content_type)
    assert cleaned == expected
    assert len(cleaned) <= 100


@pytest.mark.parametrize(("name", "content_type"), [
    ("合同.pdf", PNG), ("照片.jpg", PDF), ("照片.JPEG", PNG), ("a.png", JPEG),
])
def test_an_extension_contradicting_the_content_is_refused(name, content_type):
    with pytest.raises(InvalidInput) as refused:
        clean_file_name(name, content_type)
    assert refused.value.code == "MATERIAL_TYPE_MISMATCH"


def test_owner_of_each_kind_of_caller():
    assert owner_of(Principal(kind="member", user_id=1, member_id=10)) == ("member", 10)
    assert owner_of(Principal(kind="unit", user_id=2, employer_id=20)) == ("employer", 20)
    assert owner_of(Principal(kind="developer", user_id=3)) == ("developer", 3)
    for principal in (Principal(kind="staff", user_id=4, roles=frozenset({"admin"})),
                      Principal(kind="anonymous"), Principal(kind="member", user_id=5)):
        with pytest.raises(Forbidden) as refused:
            owner_of(principal)
        assert refused.value.code == "ACTOR_NOT_ALLOWED"


def test_binary_encryption_is_bound_to_its_context():
    cipher = FieldCipher("unit-test-secret")
    sealed = cipher.encrypt_bytes(b"%PDF-1.7 data", "mat_material.file:aa")
    assert sealed != cipher.encrypt_bytes(b"%PDF-1.7 data", "mat_material.file:aa")
    assert cipher.decrypt_bytes(sealed, "mat_material.file:aa") == b"%PDF-1.7 data"
    for bad_context, bad_token in (("mat_material.file:bb", sealed),
                                   ("mat_material.file:aa", sealed[:-1]),
                                   ("mat_material.file:aa", b"v1.short"),
                                   ("mat_material.file:aa", b"v2." + sealed[3:])):
        with pytest.raises(ValueError, match="undecryptable"):
            cipher.decrypt_bytes(bad_token, bad_context)
    with pytest.raises(ValueError):
        FieldCipher("another-secret").decrypt_bytes(sealed, "mat_material.file:aa")
