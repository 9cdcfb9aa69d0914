"""What every console page shares: the staff session, role checks, CSRF, headers, rendering.

The console is a server-rendered staff channel (综合管理系统控制台). Its session lives in the
`hpf_console` cookie (HttpOnly, SameSite=Strict, Secure over https) and is an ordinary identity
session opened on the counter channel, so idle and absolute timeouts are identity's. Every
POST carries a CSRF token derived from the session token (a hidden field, or the X-CSRF-Token
header htmx sends) and, when the browser says where it comes from, an Origin or Referer of
this host. Refusals render as Chinese pages with the refusal's status and write nothing.
"""

import hashlib
import hmac
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any
from urllib.parse import urlsplit

import structlog
from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from hpf.admin.forms import LABELS
from hpf.admin.nav import NAV, visible
from hpf.config import get_settings
from hpf.gateway.principal import Principal
from hpf.identity import service as identity
from hpf.identity.domain import ROLE_NAMES, ROLES
from hpf.kit import clock
from hpf.kit.errors import Forbidden, HpfError, InvalidInput
from hpf.kit.money import format_yuan

log = structlog.get_logger()

COOKIE = "hpf_console"
LOGIN_COOKIE = "hpf_console_login"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
PREFIX = "/console"
MAX_FIELDS = 40
MAX_FIELD_CHARS = 500
MAX_TOKEN_CHARS = 128

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
}

templates = Jinja2Templates(directory=str(FilePath(__file__).resolve().parents[1] / "templates"))


def _local(value: datetime | date | str | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        # SQLite hands stored UTC times back without a zone.
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(clock.LOCAL_TZ).strftime(fmt)
    return value.isoformat()


templates.env.filters["local"] = _local
templates.env.filters["yuan"] = lambda fen: "" if fen is None else format_yuan(int(fen))
templates.env.globals["ROLE_NAMES"] = ROLE_NAMES
templates.env.globals["LABELS"] = LABELS


class LoginNeeded(Exception):
    """No live console session: a page redirects to the login form."""


class ConsoleRoute(APIRoute):
    """A console route: refusals become Chinese pages, every answer gets the security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the endpoint so errors render as pages and headers are always set."""
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                response = await handler(request)
            except LoginNeeded:
                response = _to_login(request)
            except HpfError as exc:
                response = error_page(request, exc)
            except RequestValidationError:
                response = error_page(request, InvalidInput("请求参数有误", code="INVALID_INPUT"))
            except Exception as exc:  # noqa: BLE001 - a page, never a stack trace, for staff
                log.error("console.unhandled", path=request.url.path, error=repr(exc))
                response = error_page(request, HpfError("系统繁忙，请稍后再试",
                                                        code="INTERNAL_ERROR", status=500))
            for name, value in SECURITY_HEADERS.items():
                # A handler's own policy stands: a served file sets a stricter (sandbox) one.
                if name == "Content-Security-Policy" and name in response.headers:
                    continue
                response.headers[name] = value
            return response

        return route


def console_router() -> APIRouter:
    """A router of console pages (under /console, out of the API schema)."""
    return APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)


def _to_login(request: Request) -> Response:
    if request.headers.get("hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": f"{PREFIX}/login"})
    return RedirectResponse(f"{PREFIX}/login", status_code=303)


def error_page(request: Request, exc: HpfError) -> Response:
    """A refusal as a page (or, for htmx, as a fragment) with its status."""
    staff = getattr(request.state, "console_staff", None)
    name = "console/_error.html" if request.headers.get("hx-request") else "console/error.html"
    return render(request, name, {"error": exc}, staff=staff, status=exc.status)


def render(request: Request, name: str, context: dict[str, Any], *,
           staff: Principal | None = None, status: int = 200) -> HTMLResponse:
    """Render a console template with the navigation the staff member may use."""
    base = {"staff": staff, "nav": visible(staff) if staff else [], "csrf": "",
            "roles": ROLES, "prefix": PREFIX}
    if staff is not None:
        base["csrf"] = csrf_token(request.cookies.get(COOKIE, ""))
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status)


# --- session ----------------------------------------------------------------------------------

def _token(request: Request) -> str | None:
    raw = request.cookies.get(COOKIE)
    return raw if raw and len(raw) <= MAX_TOKEN_CHARS else None


def console_staff(request: Request) -> Principal:
    """The staff member of the console session; LoginNeeded without one, 403 for non-staff.

    Resolved in a short transaction of its own (identity slides the idle expiry), committed
    before the page opens its own.
    """
    token = _token(request)
    if token is None:
        raise LoginNeeded()
    with request.app.state.session_factory() as db, db.begin():
        principal = identity.resolve(db, token)
    if principal is None:
        raise LoginNeeded()
    if not principal.is_staff:
        raise Forbidden("综合管理系统仅限公积金中心工作人员使用", code="STAFF_ONLY")
    request.state.console_staff = principal
    return principal


Staff = Annotated[Principal, Depends(console_staff)]
PathText = Path(max_length=80)


def need(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency admitting staff holding one of `roles` (administrators hold every role)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    def staff_with_role(staff: Staff) -> Principal:
        if roles and not any(staff.has_role(r) for r in roles):
            names = "、".join(ROLE_NAMES[r] for r in roles)
            raise Forbidden(f"您没有使用此功能的权限（需要{names}角色）", code="ROLE_REQUIRED",
                            roles=list(roles))
        return staff

    return staff_with_role


def page_roles(key: str) -> tuple[str, ...]:
    """The roles of a navigation page (one place says who may open what)."""
    return next(item.roles for item in NAV if item.key == key)


# --- CSRF -------------------------------------------------------------------------------------

def csrf_token(session_token: str) -> str:
    """The session's CSRF token: an HMAC of its session token under the secret key."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"console-csrf:{session_token}".encode(), hashlib.sha256).hexdigest()


class CsrfFailed(Forbidden):
    code = "CSRF_FAILED"
    message = "页面已过期或请求来源无法确认，请刷新页面后重试"


def check_origin(request: Request) -> None:
    """Refuse a POST whose Origin (or, without one, Referer) names another host."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return
    host = request.headers.get("host", "")
    if source == "null" or urlsplit(source).netloc.lower() != host.lower():
        raise CsrfFailed()


def check_csrf(request: Request, given: str | None, session_token: str | None) -> None:
    """Refuse a POST without the token of its session."""
    check_origin(request)
    header = request.headers.get(CSRF_HEADER.lower())
    candidates = [t for t in (header, given) if t]
    if not session_token or not candidates:
        raise CsrfFailed()
    expected = csrf_token(session_token)
    if not any(hmac.compare_digest(expected.encode(), t.encode("utf-8", "replace"))
               for t in candidates):
        raise CsrfFailed()


async def read_form(request: Request, csrf_basis: str | None) -> dict[str, str]:
    """The posted fields (bounded in number and length), after the CSRF check against the
    token derived from `csrf_basis` (the session token; before login, the login nonce)."""
    try:
        form = await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=4096)
    except Exception:  # noqa: BLE001 - a malformed body is the client's error, not ours
        raise InvalidInput("提交的表单无法识别", code="INVALID_FORM") from None
    fields: dict[str, str] = {}
    for name, value in form.multi_items():
        if not isinstance(value, str):
            raise InvalidInput("不接受文件上传", code="INVALID_FORM")
        fields[name] = value
    check_csrf(request, fields.pop(CSRF_FIELD, None), csrf_basis)
    too_long = [k for k, v in fields.items() if len(v) > MAX_FIELD_CHARS or len(k) > 64]
    if too_long:
        raise InvalidInput(f"输入内容过长（每项最多{MAX_FIELD_CHARS}个字符）",
                           code="INPUT_TOO_LONG", fields=too_long[:5])
    if any("\x00" in v for v in fields.values()):
        raise InvalidInput("提交的内容含有不可见的空字符", code="INVALID_CHARACTERS")
    return fields


async def posted_form(request: Request, staff: Staff) -> dict[str, str]:
    """Dependency: the staff member's posted form, CSRF-checked."""
    return await read_form(request, _token(request))


Form = Annotated[dict[str, str], Depends(posted_form)]


def is_htmx(request: Request) -> bool:
    """True for a request htmx made (it swaps a fragment instead of a page)."""
    return bool(request.headers.get("hx-request"))


def factory(request: Request):
    """The application's session factory."""
    return request.app.state.session_factory
