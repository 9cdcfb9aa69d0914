"""Application materials over the API: upload, list, fetch; who may; what is refused."""

import hashlib
import json

import pytest
from sqlalchemy import func, select, text

from hpf.audit.models import AuditRecord
from hpf.config import get_settings
from hpf.kit.db import transaction
from hpf.materials import service as materials
from hpf.materials import storage
from hpf.materials.models import Material

from .conftest import JPEG, PDF, PNG

UPLOAD = "/api/v1/uploads/materials"


def _upload(city, headers, content, name="合同.pdf", code="rent_contract", channel="hall",
            media="application/octet-stream", **form):
    return city.client.post(UPLOAD, files={"file": (name, content, media)},
                            data={"code": code, **form},
                            headers={**headers, "X-HPF-Channel": channel})


def _get(city, path, headers, channel="hall"):
    return city.client.get(path, headers={**headers, "X-HPF-Channel": channel})


def _member(city, n, name):
    """A member opened by the unit operator, with an online login: (member_no, headers)."""
    unit = city.login("unit", "unit01")
    member_no = city.open_member(unit, n, name)
    return member_no, city.member_login(member_no)


def _count() -> int:
    with transaction(get_settings().database_url) as s:
        return s.scalar(select(func.count()).select_from(Material))


def _audit(city, event):
    with transaction(city.url) as s:
        return [(r.actor_kind, r.target, json.loads(r.detail))
                for r in s.scalars(select(AuditRecord).where(AuditRecord.event == event)
                                   .order_by(AuditRecord.seq))]


def test_upload_pdf_png_jpeg_list_and_fetch(city):
    _, member = _member(city, 1, "张三")
    answers = []
    for content, name, code, media in ((PDF, "租房合同.pdf", "rent_contract", "application/pdf"),
                                       (PNG, "发票.png", "invoice", "image/png"),
                                       (JPEG, "身份证.JPG", "id_card", "image/jpeg")):
        r = _upload(city, member, content, name=name, code=code)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body == {"material_id": body["material_id"], "code": code, "size": len(content),
                        "sha256": hashlib.sha256(content).hexdigest(), "content_type": media}
        answers.append(body)
    listed = _get(city, "/api/v1/materials", member)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    # Newest first among the unused; the extension is normalised to lower case.
    assert [(i["material_id"], i["file_name"], i["used"]) for i in items] == [
        (answers[2]["material_id"], "身份证.jpg", False),
        (answers[1]["material_id"], "发票.png", False),
        (answers[0]["material_id"], "租房合同.pdf", False)]
    r = _get(city, f"/api/v1/materials/{answers[0]['material_id']}", member)
    assert r.status_code == 200, r.text
    assert r.content == PDF
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == (
        f'attachment; filename="material-{answers[0]["material_id"]}.pdf"; '
        "filename*=UTF-8''%E7%A7%9F%E6%88%BF%E5%90%88%E5%90%8C.pdf")
    assert r.headers["cache-control"] == "no-store"
    # Each upload is audited; the owner's own reads are not.
    uploads = _audit(city, "material.upload")
    assert [(kind, target, detail["code"]) for kind, target, detail in uploads] == [
        ("member", f"material:{a['material_id']}", a["code"]) for a in answers]
    assert _audit(city, "material.read") == []


def test_same_file_again_answers_the_same_material(city):
    _, member = _member(city, 1, "张三")
    first = _upload(city, member, PDF).json()
    again = _upload(city, member, PDF)
    assert again.status_code == 200 and again.json() == first
    other_code = _upload(city, member, PDF, code="invoice").json()
    assert other_code["material_id"] != first["material_id"]
    assert _count() == 2


@pytest.mark.parametrize(("content", "name", "status", "code"), [
    (b"%PDX-1.7 not a pdf at all", "合同.pdf", 422, "MATERIAL_TYPE"),
    (b"<html><script>alert(1)</script></html>", "合同.pdf", 422, "MATERIAL_TYPE"),
    (b"PK\x03\x04 a zip or a docx", "合同.docx", 422, "MATERIAL_TYPE"),
    (PNG, "合同.pdf", 422, "MATERIAL_TYPE_MISMATCH"),
    (PDF, "合同.jpeg", 422, "MATERIAL_TYPE_MISMATCH"),
    (b"", "合同.pdf", 422, "MATERIAL_EMPTY"),
])
def test_bad_files_are_refused_and_nothing_is_kept(city, content, name, status, code):
    _, member = _member(city, 1, "张三")
    r = _upload(city, member, content, name=name)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code and r.json()["message"]
    assert _count() == 0


def test_bad_code_and_no_login_are_refused(city):
    _, member = _member(city, 1, "张三")
    for bad in ("Rent-Contract", "1invoice", "x" * 33, ""):
        r = _upload(city, member, PDF, code=bad)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["code"] in ("MATERIAL_CODE_INVALID", "INVALID_INPUT"), r.text
    assert _upload(city, member, PDF, code="租房合同").json()["code"] == "MATERIAL_CODE_INVALID"
    r = _upload(city, {}, PDF)
    assert r.status_code == 401 and r.json()["code"] == "LOGIN_REQUIRED"
    assert _get(city, "/api/v1/materials", {}).json()["code"] == "LOGIN_REQUIRED"
    assert _count() == 0


def test_oversized_uploads_are_refused_declared_or_chunked(city, monkeypatch):
    _, member = _member(city, 1, "张三")
    big = PDF + b"0" * 2048
    monkeypatch.setattr(get_settings(), "max_upload_bytes", 1024)
    # A declared length over the limit: refused before the body is read (main.limit_body).
    r = _upload(city, member, big)
    assert r.status_code == 413 and r.json()["code"] == "PAYLOAD_TOO_LARGE", r.text

    # Chunked, no length declared: the endpoint stops reading one byte past the limit.
    boundary = "materials-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"code\"\r\n\r\n"
            f"rent_contract\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"big.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").encode() \
        + big + f"\r\n--{boundary}--\r\n".encode()

    def chunks(data=body, size=512):
        for start in range(0, len(data), size):
            yield data[start:start + size]

    headers = {**member, "X-HPF-Channel": "hall",
               "Content-Type": f"multipart/form-data; boundary={boundary}"}
    r = city.client.post(UPLOAD, content=chunks(), headers=headers)
    assert "content-length" not in {k.lower() for k in r.request.headers}
    assert r.request.headers["transfer-encoding"] == "chunked"
    assert r.status_code == 413 and r.json()["code"] == "MATERIAL_TOO_LARGE", r.text
    monkeypatch.undo()

    # Chunked past the process-wide body limit: cut off by the signed-request reader.
    limit = get_settings().max_upload_bytes
    huge = body.replace(big, PDF + b"0" * (limit + 1))
    r = city.client.post(UPLOAD, content=chunks(huge, 256 * 1024), headers=headers)
    assert r.request.headers["transfer-encoding"] == "chunked"
    assert r.status_code == 413 and r.json()["code"] == "PAYLOAD_TOO_LARGE", r.text
    assert _count() == 0


def test_others_cannot_read_or_list_a_members_material(city):
    owner_no, owner = _member(city, 1, "张三")
    _, other = _member(city, 2, "李四")
    mid = _upload(city, owner, PDF).json()["material_id"]
    path = f"/api/v1/materials/{mid}"
    unit = city.login("unit", "unit01")
    # Another member, the employer's operator, a clerk (no review role): all told "not found",
    # exactly as for an id that does not exist.
    for headers, channel in ((other, "hall"), (unit, "hall"), (city.staff("clerk"), "counter")):
        r = _get(city, path, headers, channel)
        assert r.status_code == 404 and r.json()["code"] == "MATERIAL_NOT_FOUND", r.text
    missing = _get(city, f"/api/v1/materials/{mid + 1000}", owner)
    assert missing.status_code == 404 and missing.json()["code"] == "MATERIAL_NOT_FOUND"
    assert _get(city, "/api/v1/materials", other).json() == {"items": []}
    assert _get(city, "/api/v1/materials", unit).json() == {"items": []}
    # Reviewer and approver read it, and each staff read is audited.
    for login in ("rev1", "rev2"):
        r = _get(city, path, city.staff(login), "counter")
        assert r.status_code == 200 and r.content == PDF, r.text
    with transaction(city.url) as s:
        owner_id = s.get(Material, mid).owner_id
    assert _audit(city, "material.read") == [
        ("staff", f"material:{mid}", {"code": "rent_contract", "owner_kind": "member",
                                      "owner_id": owner_id})] * 2
    listed = _get(city, f"/api/v1/materials?member_no={owner_no}", city.staff("rev1"), "counter")
    assert [i["material_id"] for i in listed.json()["items"]] == [mid]
    r = _get(city, f"/api/v1/materials?member_no={owner_no}", city.staff("clerk"), "counter")
    assert r.status_code == 403 and r.json()["code"] == "ROLE_REQUIRED"
    r = _get(city, "/api/v1/materials", city.staff("rev1"), "counter")
    assert r.status_code == 422 and r.json()["code"] == "MEMBER_NO_REQUIRED"


def test_counter_clerk_uploads_for_a_named_member(city):
    owner_no, owner = _member(city, 1, "张三")
    other_no, _ = _member(city, 2, "李四")
    clerk = city.staff("clerk")
    r = _upload(city, clerk, JPEG, name="病历.jpg", code="medical_certificate",
                channel="counter", member_no=owner_no)
    assert r.status_code == 200, r.text
    mid = r.json()["material_id"]
    # It is the member's: listed and readable by them.
    assert [i["material_id"] for i in _get(city, "/api/v1/materials", owner).json()["items"]] \
        == [mid]
    assert _get(city, f"/api/v1/materials/{mid}", owner).content == JPEG
    with transaction(city.url) as s:
        row = s.get(Material, mid)
        assert (row.owner_kind, row.channel, row.uploaded_by is not None) == \
            ("member", "counter", True)
    assert _audit(city, "material.upload")[-1][:2] == ("staff", f"material:{mid}")

    r = _upload(city, clerk, JPEG, channel="counter")
    assert r.status_code == 422 and r.json()["code"] == "MEMBER_NO_REQUIRED"
    r = _upload(city, clerk, JPEG, channel="counter", member_no="530100999999999")
    assert r.status_code == 404 and r.json()["code"] == "MEMBER_NOT_FOUND"
    r = _upload(city, city.staff("rev1"), JPEG, channel="counter", member_no=owner_no)
    assert r.status_code == 403 and r.json()["code"] == "ROLE_REQUIRED"
    # A member names only themself.
    r = _upload(city, owner, PNG, name="a.png", member_no=other_no)
    assert r.status_code == 403 and r.json()["code"] == "OTHER_MEMBER"
    assert _upload(city, owner, PNG, name="a.png", member_no=owner_no).status_code == 200
    r = _upload(city, city.login("unit", "unit01"), PNG, name="a.png", member_no=owner_no)
    assert r.status_code == 403 and r.json()["code"] == "OTHER_MEMBER"


def test_employer_operator_materials_are_the_employers(city):
    unit = city.login("unit", "unit01")
    r = _upload(city, unit, PDF, code="authorisation")
    assert r.status_code == 200, r.text
    mid = r.json()["material_id"]
    with transaction(city.url) as s:
        row = s.get(Material, mid)
        assert (row.owner_kind, row.owner_id) == ("employer", city.employer_id)
    assert _get(city, f"/api/v1/materials/{mid}", unit).content == PDF
    _, member = _member(city, 1, "张三")
    assert _get(city, f"/api/v1/materials/{mid}", member).status_code == 404


def test_the_file_on_disk_and_the_name_in_the_database_are_not_plaintext(city):
    _, member = _member(city, 1, "张三")
    content = PDF + "张三 身份证号 530102199005170011 住址".encode() * 20
    mid = _upload(city, member, content, name="张三身份证.pdf").json()["material_id"]
    with transaction(city.url) as s:
        row = s.get(Material, mid)
        relative, digest = row.stored_path, row.sha256
        raw_name = s.execute(text("SELECT file_name_enc FROM mat_material WHERE id = :i"),
                             {"i": mid}).scalar_one()
    assert row.file_name == "张三身份证.pdf"
    assert "张三" not in raw_name and raw_name.startswith("v1.")
    path = storage.root() / relative
    assert path.name == f"{digest}.bin" and path.parent.name == digest[:2]
    on_disk = path.read_bytes()
    assert b"%PDF" not in on_disk and "张三".encode() not in on_disk
    assert b"530102199005170011" not in on_disk
    assert hashlib.sha256(on_disk).hexdigest() != digest
    assert path.stat().st_mode & 0o077 == 0  # readable by the service's user only
    assert storage.read(relative, digest) == content
    # Damaged on disk: a clear refusal, never the altered bytes.
    path.write_bytes(on_disk[:-1] + bytes([on_disk[-1] ^ 1]))
    r = _get(city, f"/api/v1/materials/{mid}", member)
    assert r.status_code == 503 and r.json()["code"] == "MATERIAL_UNREADABLE"
    # The next upload of the same content repairs the file.
    path.write_bytes(on_disk[:-1] + bytes([on_disk[-1] ^ 1]))
    storage.write(content)
    assert _get(city, f"/api/v1/materials/{mid}", member).content == content
    assert materials.detect_type(on_disk) is None
