"""申请材料 in the console: the materials an application carries, listed in its approval row,
and one route that hands a material's file to staff who review applications.

The file is served inline for the reviewer to read, but as untrusted content: its own type
only (nosniff), never cached, and under a sandboxing Content-Security-Policy, so a crafted PDF
or image cannot run script with the console's origin. Anyone else, and an unknown id, gets the
console's 404 page: nothing says whether a material exists. Every read is audited by
hpf.materials.service.read.
"""

from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from hpf.admin import web
from hpf.admin.auth import CHANNEL
from hpf.gateway.principal import Principal
from hpf.materials import service as materials
from hpf.materials.models import Material
from hpf.withdrawals import kinds

router = web.console_router()

# The file answers: a sandboxed, script-less document (the PDF viewer and the image viewer
# still work; their own inline styles are let through).
FILE_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
IMAGE_TYPES = (materials.JPEG, materials.PNG)

# Every withdrawal kind's material names; a kind's own name wins where two kinds differ.
_ANY_KIND_NAMES: dict[str, str] = {}
for _kind in kinds.KINDS.values():
    for _m in _kind.materials:
        _ANY_KIND_NAMES.setdefault(_m.code, _m.name_zh)


def material_name(service_code: str, code: str) -> str:
    """The Chinese name of a material code in a service's application (else the code)."""
    kind = kinds.KINDS.get(service_code)
    own = {m.code: m.name_zh for m in kind.materials} if kind else {}
    return own.get(code) or _ANY_KIND_NAMES.get(code) or code


def size_text(size_bytes: int) -> str:
    """A file size as staff read it: bytes, or KB / MB to one decimal rounded half up."""
    if size_bytes < 1024:
        return f"{size_bytes} 字节"
    tenths = (size_bytes * 10 + 512) // 1024
    if tenths >= 10 * 1024:  # 1023.95 KB and up reads as MB
        tenths = (size_bytes * 10 + 512 * 1024) // (1024 * 1024)
        return f"{tenths // 10}.{tenths % 10} MB"
    return f"{tenths // 10}.{tenths % 10} KB"


def may_see(staff: Principal) -> bool:
    """True for staff who may open application materials (reviewers and approvers)."""
    return any(staff.has_role(role) for role in materials.REVIEW_ROLES)


def describe(service_code: str, material: Material) -> dict[str, Any]:
    """One material as its approval row shows it (no content, no storage path)."""
    return {"id": material.id, "code": material.code,
            "name": material_name(service_code, material.code),
            "file_name": material.file_name, "content_type": material.content_type,
            "type": materials.TYPE_NAMES[material.content_type],
            "size": size_text(material.size_bytes),
            "image": material.content_type in IMAGE_TYPES}


def attach(session: Session, staff: Principal, items: Iterable[dict]) -> None:
    """Add to each queue item the materials its application took (`attachments`), for staff
    who may open them; others get an empty list."""
    items = list(items)
    taken = materials.of_commands(session, [i["command_id"] for i in items]) \
        if may_see(staff) else {}
    for item in items:
        item["attachments"] = [describe(item["service"], m)
                               for m in taken.get(item["command_id"], [])]


def disposition(material: Material) -> str:
    """`inline` with an ASCII fallback name and the original (Chinese) name per RFC 5987."""
    extension = materials.DEFAULT_EXTENSION[material.content_type]
    return (f'inline; filename="material-{material.id}{extension}"; '
            f"filename*=UTF-8''{quote(material.file_name, safe='')}")


def _read(request: Request, staff: Principal, material_id: int) -> tuple[str, str, bytes]:
    """(content type, disposition, bytes) of a material, read and audited in one transaction."""
    with web.factory(request)() as session, session.begin():
        material, content = materials.read(
            session, material_id, staff, channel=CHANNEL,
            ip=request.client.host if request.client else None)
        return material.content_type, disposition(material), content


@router.get("/materials/{material_id}")
def material_file(request: Request, material_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
                  staff: web.Staff) -> Response:
    """One material's file for a reviewer or approver; anyone else is told it does not exist."""
    content_type, inline, content = _read(request, staff, material_id)
    return Response(content, media_type=content_type, headers={
        "Content-Disposition": inline, "Content-Security-Policy": FILE_CSP})
