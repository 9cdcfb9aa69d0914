"""Application materials (申请材料) over the API: upload, list one's own, fetch one file.

Uploads are signed like every API call (hpf.channels.api.signed) and sit under /api/v1/uploads,
where main.limit_body applies the upload size limit to a declared length; a body sent without
a length (chunked) is cut off by the signed-request reader and by the read below. Files are
only ever handed out here, to their owner or to staff who review applications.
"""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from hpf.channels.api.deps import Channel, DbSession, RequiredPrincipal, client_ip, signed_channel
from hpf.config import get_settings
from hpf.deposits import repository as deposits
from hpf.gateway.principal import Principal
from hpf.kit.errors import Forbidden, InvalidInput, TooLarge
from hpf.materials import service as materials

router = APIRouter(prefix="/api/v1", tags=["materials"], dependencies=[Depends(signed_channel)])
MAX_ID = 2**63 - 1
MEMBER_NO = r"^\d+$"  # as the queries take it: digits only (no NUL reaches the database)


def _owner(session: Session, principal: Principal, member_no: str | None) -> tuple[str, int]:
    """Whose material an upload is: the caller's own, or the member counter staff name."""
    if principal.is_staff:
        if not principal.has_role("clerk"):
            raise Forbidden("仅柜员可代职工上传材料", code="ROLE_REQUIRED", role="clerk")
        if not member_no:
            raise InvalidInput("请填写个人账号", code="MEMBER_NO_REQUIRED")
        return "member", deposits.member_by_no(session, member_no).id
    owner = materials.owner_of(principal)
    if member_no and (owner[0] != "member"
                      or deposits.member_by_id(session, owner[1]).member_no != member_no):
        raise Forbidden("不能为他人上传材料", code="OTHER_MEMBER")
    return owner


def _store(request: Request, principal: Principal, channel: str, code: str,
           member_no: str | None, filename: str | None, content: bytes) -> dict[str, Any]:
    with request.app.state.session_factory() as session, session.begin():
        owner_kind, owner_id = _owner(session, principal, member_no)
        material = materials.store(session, owner_kind, owner_id, principal.user_id, channel,
                                   code, filename, content, actor_kind=principal.kind,
                                   ip=client_ip(request))
        return {"material_id": material.id, "code": material.code, "size": material.size_bytes,
                "sha256": material.sha256, "content_type": material.content_type}


@router.post("/uploads/materials", summary="申请材料上传")
async def upload_material(
    request: Request,
    principal: RequiredPrincipal,
    channel: Channel,
    code: Annotated[str, Form(max_length=32)],
    file: Annotated[UploadFile, File()],
    member_no: Annotated[str | None, Form(max_length=20, pattern=MEMBER_NO)] = None,
) -> dict[str, Any]:
    """Upload one supporting document (PDF, JPG or PNG) for a later application."""
    limit = get_settings().max_upload_bytes
    # One byte past the limit is enough to know it is too large; never read the rest.
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise TooLarge(f"文件不能超过{limit / 1024 / 1024:g}MB", code="MATERIAL_TOO_LARGE",
                       max_bytes=limit)
    return await run_in_threadpool(_store, request, principal, channel, code, member_no,
                                   file.filename, content)


@router.get("/materials", summary="我的申请材料")
def list_materials(
    db: DbSession,
    principal: RequiredPrincipal,
    member_no: Annotated[str | None, Query(max_length=20, pattern=MEMBER_NO)] = None,
    limit: Annotated[int, Query(ge=1, le=materials.MAX_LIST)] = materials.MAX_LIST,
) -> dict[str, Any]:
    """The caller's own materials, unused first; reviewing staff name a member."""
    if principal.is_staff:
        if not any(principal.has_role(role) for role in materials.REVIEW_ROLES):
            raise Forbidden("您没有查看申请材料的权限", code="ROLE_REQUIRED", role="reviewer")
        if not member_no:
            raise InvalidInput("请填写个人账号", code="MEMBER_NO_REQUIRED")
        owner = ("member", deposits.member_by_no(db, member_no).id)
    else:
        owner = materials.owner_of(principal)
    return {"items": [materials.view(m) for m in materials.list_for(db, *owner, limit=limit)]}


@router.get("/materials/{material_id}", summary="查看申请材料",
            responses={200: {"content": {materials.PDF: {}, materials.JPEG: {},
                                         materials.PNG: {}}}})
def get_material(
    request: Request,
    db: DbSession,
    principal: RequiredPrincipal,
    channel: Channel,
    material_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """The file of one material, for its owner and for reviewing staff; others get 404."""
    material, content = materials.read(db, material_id, principal, channel=channel,
                                       ip=client_ip(request))
    extension = materials.DEFAULT_EXTENSION[material.content_type]
    disposition = (f'attachment; filename="material-{material.id}{extension}"; '
                   f"filename*=UTF-8''{quote(material.file_name, safe='')}")
    # Sandboxed even if a browser is talked into rendering it inline: a PDF may carry script.
    return Response(content, media_type=material.content_type,
                    headers={"Content-Disposition": disposition,
                             "Content-Security-Policy": "sandbox"})
