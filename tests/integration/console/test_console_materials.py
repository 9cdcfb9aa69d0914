"""申请材料 in the approval queue: a reviewer sees an online application's materials in its row
and opens each file (the uploaded bytes, served inline as untrusted content, every read
audited); staff without a reviewing role and unknown ids get the console's 404 page."""

import json
import re
from datetime import date

from sqlalchemy import select

from hpf.audit.models import AuditRecord
from hpf.exchange.people_models import RegLowIncome
from hpf.kit import clock
from hpf.kit.db import transaction
from integration.withdrawals.wd_support import TODAY, saver

# The smallest files each accepted type is recognised by (hpf.materials.service.MAGIC).
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
HTMX = {"HX-Request": "true"}
FILE_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"


def _upload(city, headers, content: bytes, name: str, code: str) -> int:
    r = city.client.post("/api/v1/uploads/materials", files={"file": (name, content)},
                         data={"code": code}, headers={**headers, "X-HPF-Channel": "app"})
    assert r.status_code == 200, r.text
    return r.json()["material_id"]


def _application(console) -> tuple[int, dict[str, int]]:
    """An online low-income withdrawal (a reviewed kind) carrying three materials: the kind's
    own certificate (PDF), a document another kind names (PNG) and one no kind names (JPEG).
    Its (command id, material ids by code)."""
    city = console.city
    chen = saver(city, 31, "陈低保", 2_000_000)
    with transaction(city.url) as s:
        s.add(RegLowIncome(certificate_no="DB2026031", id_number=chen.id_number, name=chen.name,
                           since=date(2026, 1, 1), until=None, status="active"))
    ids = {"allowance_cert": _upload(city, chen.headers, PDF, "低保证明.pdf", "allowance_cert"),
           "hardship_proof": _upload(city, chen.headers, PNG, "困难证明.png", "hardship_proof"),
           "street_photo": _upload(city, chen.headers, JPEG, "IMG_0001.JPG", "street_photo")}
    r = city.call("wd.low_income", {"bank_code": "ICBC", "card_no": chen.card_no,
                                    "amount_fen": 100_000, "materials": list(ids.values())},
                  city.sms_code(chen.headers, "wd.low_income"), channel="app")
    assert r.status_code == 202, r.text
    return int(r.headers["X-Command-Id"]), ids


def _row(page: str, command_id: int) -> str:
    match = re.search(rf'<tr id="approval-{command_id}">.*?</tr>', page, re.S)
    assert match, page
    return match.group(0)


def _reads(url: str) -> list[tuple]:
    with transaction(url) as s:
        return [(r.actor_kind, r.actor_name, r.channel, r.target, json.loads(r.detail)["code"])
                for r in s.scalars(select(AuditRecord).where(AuditRecord.event == "material.read")
                                   .order_by(AuditRecord.seq))]


def test_reviewer_sees_the_materials_and_opens_each_file(console):
    with clock.frozen(TODAY):
        command_id, ids = _application(console)
        rev1 = console.desk("rev1")
        row = _row(rev1.get("/approvals").text, command_id)
        pdf, png, jpeg = ids["allowance_cert"], ids["hardship_proof"], ids["street_photo"]
        # In upload order: the kind's own name, another kind's name, and the bare code.
        items = re.findall(r'<li id="material-(\d+)">\s*<a href="/console/materials/(\d+)" '
                           r'target="_blank" rel="noopener noreferrer" class="material-link">'
                           r'([^<]+)</a>\s*<span class="muted"><code>([a-z_]+)</code> ([^<]+)'
                           r'</span>', row)
        assert items == [
            (str(pdf), str(pdf), "城乡最低生活保障金领取证", "allowance_cert",
             f"低保证明.pdf · PDF · {len(PDF)} 字节"),
            (str(png), str(png), "家庭生活困难证明", "hardship_proof",
             f"困难证明.png · PNG · {len(PNG)} 字节"),
            (str(jpeg), str(jpeg), "street_photo", "street_photo",
             f"IMG_0001.jpg · JPG · {len(JPEG)} 字节")]
        # Images get a thumbnail of the same route; the PDF only its link.
        thumbs = re.findall(r'<img src="/console/materials/(\d+)" alt="[^"]+" class="thumb" '
                            r'loading="lazy">', row)
        assert thumbs == [str(png), str(jpeg)]
        # The bare id list of the parameters gives way to the list.
        assert "申请材料：[" not in row and row.count("申请材料：") == 1
        assert _reads(console.url) == []  # listing reads no file

        r = rev1.get(f"/materials/{pdf}")
        assert r.status_code == 200, r.text
        assert r.content == PDF
        assert r.headers["content-type"] == "application/pdf"
        assert r.headers["content-disposition"] == (
            f'inline; filename="material-{pdf}.pdf"; '
            "filename*=UTF-8''%E4%BD%8E%E4%BF%9D%E8%AF%81%E6%98%8E.pdf")
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["content-security-policy"] == FILE_CSP
        r = rev1.get(f"/materials/{jpeg}")
        assert (r.status_code, r.content, r.headers["content-type"]) == (200, JPEG, "image/jpeg")
        assert r.headers["content-disposition"] == (
            f'inline; filename="material-{jpeg}.jpg"; filename*=UTF-8\'\'IMG_0001.jpg')
        assert r.headers["content-security-policy"] == FILE_CSP
        assert _reads(console.url) == [
            ("staff", "审核一", "counter", f"material:{pdf}", "allowance_cert"),
            ("staff", "审核一", "counter", f"material:{jpeg}", "street_photo")]
        # The console's own pages keep the console's policy.
        assert "sandbox" not in rev1.get("/approvals").headers["content-security-policy"]

        # An approver (and an administrator, who holds every role) sees and opens them too.
        for login in ("rev2", "boss"):
            desk = console.desk(login)
            assert f'id="material-{png}"' in _row(desk.get("/approvals").text, command_id)
            r = desk.get(f"/materials/{png}")
            assert (r.status_code, r.content) == (200, PNG)
        assert len(_reads(console.url)) == 4

        # A decision swaps the row in place; the materials stay beside the outcome.
        r = rev1.post(f"/approvals/{command_id}", {"decision": "reject",
                                                   "reason": "低保证明模糊不清"}, headers=HTMX)
        assert r.status_code == 200, r.text
        assert "已驳回" in r.text and f'id="material-{pdf}"' in r.text


def test_others_and_unknown_ids_get_the_404_page(console):
    with clock.frozen(TODAY):
        command_id, ids = _application(console)
        pdf = ids["allowance_cert"]
        unknown = max(ids.values()) + 1000
        rev1 = console.desk("rev1")
        missing = rev1.get(f"/materials/{unknown}")
        assert missing.status_code == 404
        assert "申请材料不存在" in missing.text and "MATERIAL_NOT_FOUND" in missing.text
        # Staff without a reviewing role: the same page as an unknown id, nothing of the file.
        for login in ("clerk", "audit1", "ops"):
            r = console.desk(login).get(f"/materials/{pdf}")
            assert r.status_code == 404, (login, r.text)
            assert r.headers["content-type"].startswith("text/html")
            assert "申请材料不存在" in r.text and "MATERIAL_NOT_FOUND" in r.text
            assert "低保证明" not in r.text and PDF not in r.content
            # The error page is a console page under the console's policy, not the file's.
            assert "sandbox" not in r.headers["content-security-policy"]
        assert rev1.get("/materials/0").status_code == 422
        assert rev1.get("/materials/abc").status_code == 422
        # Signed out: to the login form.
        r = console.browser().get(f"/console/materials/{pdf}", follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, "/console/login")
        # Refused and unknown reads leave no audit record.
        assert _reads(console.url) == []
        # The queue itself stays closed to a clerk (the page's own role check).
        assert console.desk("clerk").get("/approvals").status_code == 403
        assert f'id="material-{pdf}"' in rev1.get("/approvals").text
