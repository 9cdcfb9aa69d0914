"""Application materials (申请材料): store an upload, hand materials to one application, read.

Use cases flush, never commit: the request or the application's handler owns the
transaction. `store` and `read` append an audit record as their last write.
"""

import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from hpf.audit import service as audit
from hpf.config import get_settings
from hpf.gateway.principal import Principal
from hpf.kit import clock
from hpf.kit.errors import Conflict, Forbidden, InvalidInput, NotFound, TooLarge
from hpf.materials import storage
from hpf.materials.models import OWNER_KINDS, Material

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
# Magic bytes at the start of each accepted type; nothing else is accepted, whatever its name.
MAGIC = ((b"%PDF-", PDF), (b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG))
EXTENSIONS = {".pdf": PDF, ".jpg": JPEG, ".jpeg": JPEG, ".png": PNG}
DEFAULT_EXTENSION = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}
TYPE_NAMES = {PDF: "PDF", JPEG: "JPG", PNG: "PNG"}
CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
MAX_FILE_NAME_CHARS = 100
# Characters Windows refuses in a name and that a download header must not carry.
_UNSAFE_NAME_CHARS = frozenset('<>:"|?*;')
# Bounds: an owner's pile of unconsumed uploads, one application's materials, a listing.
MAX_UNUSED_PER_OWNER = 50
MAX_PER_APPLICATION = 20
MAX_LIST = 100
# Staff who decide applications read their materials (administrators hold every role).
REVIEW_ROLES = ("reviewer", "approver")
# The principal kind that acts for each owner kind (for the audit trail).
_ACTOR_KIND = {"member": "member", "employer": "unit", "developer": "developer"}


def detect_type(content: bytes) -> str | None:
    """The content type by magic bytes: PDF, JPEG or PNG; None for anything else."""
    for magic, content_type in MAGIC:
        if content.startswith(magic):
            return content_type
    return None


def clean_file_name(filename: str | None, content_type: str) -> str:
    """The original file name made safe to keep and to offer back: no directories, control or
    bidirectional-override characters, at most 100 characters, ending in the right extension.

    A known extension that contradicts the content is refused (MATERIAL_TYPE_MISMATCH); an
    unknown one (or none, as some phones send) gets the detected type's extension appended.
    """
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name
                   if unicodedata.category(ch)[0] != "C" and ch not in _UNSAFE_NAME_CHARS)
    name = name.strip().strip(".").strip()
    stem, extension = os.path.splitext(name)
    claimed = EXTENSIONS.get(extension.lower())
    if claimed is not None and claimed != content_type:
        raise InvalidInput(f"文件扩展名与内容不符：内容为{TYPE_NAMES[content_type]}文件",
                           code="MATERIAL_TYPE_MISMATCH", extension=extension.lower())
    if claimed is None:
        stem, extension = name, DEFAULT_EXTENSION[content_type]
    stem = stem.strip() or "材料"
    return stem[:MAX_FILE_NAME_CHARS - len(extension)] + extension.lower()


def owner_of(principal: Principal) -> tuple[str, int]:
    """The (owner kind, owner id) whose materials a non-staff caller holds.

    A developer's operator account stands for the developer until a developer registry exists.
    """
    if principal.kind == "member" and principal.member_id is not None:
        return "member", principal.member_id
    if principal.kind == "unit" and principal.employer_id is not None:
        return "employer", principal.employer_id
    if principal.kind == "developer" and principal.user_id is not None:
        return "developer", principal.user_id
    raise Forbidden("无权提交或查看申请材料", code="ACTOR_NOT_ALLOWED")


def store(session: Session, owner_kind: str, owner_id: int, user_id: int | None, channel: str,
          code: str, filename: str | None, content: bytes, *, actor_kind: str | None = None,
          ip: str | None = None) -> Material:
    """Check and keep one uploaded material of an owner; the same file uploaded again under
    the same code while unused answers the material already held (a retried upload)."""
    if owner_kind not in OWNER_KINDS:
        raise ValueError(f"unknown owner kind {owner_kind!r}")
    code = (code or "").strip()
    if not CODE.fullmatch(code):
        raise InvalidInput("材料类型代码无效", code="MATERIAL_CODE_INVALID")
    if not content:
        raise InvalidInput("上传的文件是空的", code="MATERIAL_EMPTY")
    limit = get_settings().max_upload_bytes
    if len(content) > limit:
        raise TooLarge(f"文件不能超过{limit / 1024 / 1024:g}MB", code="MATERIAL_TOO_LARGE",
                       max_bytes=limit)
    content_type = detect_type(content)
    if content_type is None:
        raise InvalidInput("仅支持上传PDF、JPG、PNG格式的文件", code="MATERIAL_TYPE")
    file_name = clean_file_name(filename, content_type)
    unused = session.scalar(select(func.count()).select_from(Material).where(
        Material.owner_kind == owner_kind, Material.owner_id == owner_id,
        Material.used_by_command_id.is_(None)))
    sha256 = hashlib.sha256(content).hexdigest()
    material = session.scalars(select(Material).where(
        Material.owner_kind == owner_kind, Material.owner_id == owner_id, Material.code == code,
        Material.sha256 == sha256, Material.used_by_command_id.is_(None)).limit(1)).first()
    duplicate = material is not None
    if material is None:
        if unused >= MAX_UNUSED_PER_OWNER:
            raise Conflict(f"未使用的材料已达{MAX_UNUSED_PER_OWNER}份，请先办理业务或联系中心",
                           code="MATERIAL_LIMIT", max_unused=MAX_UNUSED_PER_OWNER)
        # Written before the row: a row never points at a missing file. A rolled-back
        # transaction leaves an unreferenced file, harmless and reused by the next upload.
        _, relative = storage.write(content)
        material = Material(owner_kind=owner_kind, owner_id=owner_id, uploaded_by=user_id,
                            channel=channel, code=code, file_name=file_name,
                            content_type=content_type, size_bytes=len(content), sha256=sha256,
                            stored_path=relative, uploaded_at=clock.now())
        session.add(material)
        session.flush()
    audit.record(session, "material.upload", "success",
                 actor_kind=actor_kind or _ACTOR_KIND[owner_kind], actor_id=user_id,
                 channel=channel, target=f"material:{material.id}", ip=ip,
                 detail={"code": code, "size": len(content), "owner_kind": owner_kind,
                         "owner_id": owner_id, "duplicate": duplicate})
    return material


def require(session: Session, owner_kind: str, owner_id: int, material_ids: Iterable[int],
            codes_needed: Iterable[str], command_id: int,
            names: Mapping[str, str] | None = None) -> list[Material]:
    """The materials an application submits, checked and marked used by its command.

    Every id must exist (MATERIAL_NOT_FOUND), belong to the owner (MATERIAL_NOT_YOURS), not back
    another application (MATERIAL_USED), and together they must cover `codes_needed`
    (MATERIAL_MISSING, naming what is missing in Chinese from `names`). Calling it again for
    the same command is harmless. Materials beyond the needed codes are accepted as supporting.
    """
    ids = sorted({int(i) for i in material_ids})
    if len(ids) > MAX_PER_APPLICATION:
        raise InvalidInput(f"一笔业务最多提交{MAX_PER_APPLICATION}份材料",
                           code="MATERIAL_TOO_MANY", max_materials=MAX_PER_APPLICATION)
    # Locked in id order: two applications naming the same material queue on it (PostgreSQL;
    # SQLite writers are serialised already), and the second sees it used.
    found = {m.id: m for m in session.scalars(
        select(Material).where(Material.id.in_(ids)).order_by(Material.id).with_for_update())
    } if ids else {}
    absent = [i for i in ids if i not in found]
    if absent:
        raise NotFound("申请材料不存在，请重新上传", code="MATERIAL_NOT_FOUND",
                       material_ids=absent)
    foreign = [i for i in ids if (found[i].owner_kind, found[i].owner_id) != (owner_kind, owner_id)]
    if foreign:
        raise Forbidden("不能使用他人的申请材料", code="MATERIAL_NOT_YOURS", material_ids=foreign)
    used = [i for i in ids if found[i].used_by_command_id not in (None, command_id)]
    if used:
        raise Conflict("申请材料已用于其他业务申请，请重新上传", code="MATERIAL_USED",
                       material_ids=used)
    present = {m.code for m in found.values()}
    missing = [c for c in dict.fromkeys(codes_needed) if c not in present]
    if missing:
        zh = "、".join((names or {}).get(c, c) for c in missing)
        raise InvalidInput(f"缺少申请材料：{zh}", code="MATERIAL_MISSING", missing=missing)
    for material in found.values():
        material.used_by_command_id = command_id
    session.flush()
    return [found[i] for i in ids]


def release(session: Session, command_id: int) -> int:
    """Free the materials of an application that was withdrawn before a decision, so they may
    back a new one; the number freed."""
    materials = session.scalars(select(Material).where(
        Material.used_by_command_id == command_id).with_for_update()).all()
    for material in materials:
        material.used_by_command_id = None
    session.flush()
    return len(materials)


def may_read(material: Material, principal: Principal) -> bool:
    """True for the material's owner and for staff who review or approve applications."""
    if principal.is_staff:
        return any(principal.has_role(role) for role in REVIEW_ROLES)
    try:
        return owner_of(principal) == (material.owner_kind, material.owner_id)
    except Forbidden:
        return False


def read(session: Session, material_id: int, principal: Principal, *,
         channel: str | None = None, ip: str | None = None) -> tuple[Material, bytes]:
    """A material and its file for its owner or a reviewing staff member (each staff read is
    audited); anyone else is told it does not exist (MATERIAL_NOT_FOUND), never that it does."""
    material = session.get(Material, material_id)
    if material is None or not may_read(material, principal):
        raise NotFound("申请材料不存在", code="MATERIAL_NOT_FOUND")
    content = storage.read(material.stored_path, material.sha256)
    if principal.is_staff:
        audit.record(session, "material.read", "success", actor_kind=principal.kind,
                     actor_id=principal.user_id, actor_name=principal.name, channel=channel,
                     target=f"material:{material.id}", ip=ip,
                     detail={"code": material.code, "owner_kind": material.owner_kind,
                             "owner_id": material.owner_id})
    return material, content


def list_for(session: Session, owner_kind: str, owner_id: int,
             limit: int = MAX_LIST) -> list[Material]:
    """An owner's materials, unused first, newest first within each (at most MAX_LIST)."""
    unused_first = case((Material.used_by_command_id.is_(None), 0), else_=1)
    return list(session.scalars(select(Material).where(
        Material.owner_kind == owner_kind, Material.owner_id == owner_id)
        .order_by(unused_first, Material.uploaded_at.desc(), Material.id.desc())
        .limit(min(max(limit, 1), MAX_LIST))))


def of_commands(session: Session, command_ids: Iterable[int]) -> dict[int, list[Material]]:
    """The materials each application (stored command) took, by command id, in upload order."""
    ids = sorted({int(i) for i in command_ids})
    taken: dict[int, list[Material]] = {}
    if not ids:
        return taken
    # At most MAX_PER_APPLICATION a command: a queue page of 100 reads at most 2,000 rows.
    for material in session.scalars(select(Material).where(
            Material.used_by_command_id.in_(ids)).order_by(Material.id)):
        taken.setdefault(material.used_by_command_id, []).append(material)
    return taken


def view(material: Material) -> dict[str, Any]:
    """The JSON description of a material (no file content, no storage path)."""
    return {"material_id": material.id, "code": material.code, "file_name": material.file_name,
            "content_type": material.content_type, "size": material.size_bytes,
            "sha256": material.sha256, "uploaded_at": material.uploaded_at,
            "used": material.used_by_command_id is not None}
