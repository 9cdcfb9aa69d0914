"""Excel in and out: the roster export (职工清册导出) and the base adjustment upload.

Both go through the gateway like every other call; this adapter only converts formats.
"""

import io
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from openpyxl import Workbook, load_workbook

from hpf.channels.api.deps import current_principal, signed_channel
from hpf.config import get_settings
from hpf.gateway import service as gateway
from hpf.gateway.principal import Principal
from hpf.kit.errors import InvalidInput, TooLarge
from hpf.kit.money import yuan_to_fen

router = APIRouter(prefix="/api/v1", tags=["exports"], dependencies=[Depends(signed_channel)])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 20_000


@router.get("/exports/unit-members.xlsx", summary="职工清册导出")
def export_members(request: Request, unit_no: str | None = None,
                   principal: Principal = Depends(current_principal),
                   channel: str = Depends(signed_channel)) -> StreamingResponse:
    """The employer's roster as an Excel workbook."""
    params: dict[str, Any] = {"export": True}
    if unit_no:
        params["unit_no"] = unit_no
    outcome = gateway.invoke(request.app.state.session_factory, channel, principal,
                             "q.unit_members", params)
    data = outcome.body["result"]
    book = Workbook()
    sheet = book.active
    sheet.title = "职工清册"
    sheet.append(["个人账号", "姓名", "证件号码", "账户状态", "缴存基数(元)", "单位比例(%)",
                  "个人比例(%)", "账户余额(元)", "开户日期"])
    for item in data["items"]:
        sheet.append([item["member_no"], item["name"], item["id_number"], item["status_zh"],
                      item["base_fen"] / 100, item["unit_ratio_bps"] / 100,
                      item["member_ratio_bps"] / 100, item["balance_fen"] / 100,
                      str(item["opened_on"])])
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    name = f"unit-members-{data['unit_no']}.xlsx"
    return StreamingResponse(buffer, media_type=XLSX,
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


def parse_base_rows(content: bytes) -> list[dict[str, Any]]:
    """Rows (member_no, base_fen) from a 缴存基数调整清册 workbook: 个人账号 | 姓名 | 新缴存基数(元)."""
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a bad file
        raise InvalidInput("无法读取Excel文件，请使用模板填写", code="BAD_WORKBOOK") from exc
    sheet = book.worksheets[0]
    rows: list[dict[str, Any]] = []
    problems = []
    for number, row in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        if not row or all(v in (None, "") for v in row):
            continue
        if len(rows) >= MAX_ROWS:
            raise InvalidInput(f"清册最多{MAX_ROWS}行", code="TOO_MANY_ROWS")
        member_no = str(row[0]).strip() if row[0] is not None else ""
        try:
            base_fen = yuan_to_fen(str(row[2]).strip())
        except Exception:
            problems.append({"row": number, "code": "INVALID_AMOUNT"})
            continue
        rows.append({"member_no": member_no, "base_fen": base_fen})
    if problems:
        raise InvalidInput("清册中有无效的基数", code="BASE_ADJUST_INVALID", problems=problems[:200])
    if not rows:
        raise InvalidInput("清册没有数据行", code="EMPTY_WORKBOOK")
    return rows


@router.post("/uploads/base-adjust", summary="缴存基数调整清册上传")
async def upload_base_adjust(
    request: Request,
    file: UploadFile = File(...),
    unit_no: str | None = Form(default=None),
    year: int | None = Form(default=None),
    principal: Principal = Depends(current_principal),
    channel: str = Depends(signed_channel),
) -> JSONResponse:
    """Annual base adjustment from an Excel upload (dep.base_adjust); 202 when it awaits review."""
    limit = get_settings().max_upload_bytes
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise TooLarge(f"文件不能超过{limit // 1024 // 1024}MB", code="UPLOAD_TOO_LARGE")
    params: dict[str, Any] = {"rows": parse_base_rows(content)}
    if unit_no:
        params["unit_no"] = unit_no
    if year:
        params["year"] = year
    key = request.headers.get("idempotency-key")
    outcome = gateway.invoke(request.app.state.session_factory, channel, principal,
                             "dep.base_adjust", params, key)
    headers = {"X-Command-Id": str(outcome.command_id)} if outcome.command_id else {}
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)
