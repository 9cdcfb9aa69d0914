"""Staff sign-in to the console: login name, password and the 6-digit TOTP (动态口令).

The login form has its own CSRF token, derived from a random nonce in a short-lived cookie,
so a page elsewhere cannot sign a browser into someone else's console session.
"""

import re
import secrets

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from hpf.admin import web
from hpf.config import get_settings
from hpf.identity import service as identity
from hpf.kit.errors import HpfError, InvalidInput

router = web.console_router()

CHANNEL = "counter"  # the console is the staff channel (服务网点柜面与后台)
OTP = re.compile(r"^[0-9]{6}$")
LOGIN_NONCE_S = 30 * 60


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _login_form(request: Request, *, error: HpfError | None = None, login_name: str = "",
                captcha: dict | None = None, status: int = 200) -> Response:
    nonce = secrets.token_urlsafe(24)
    response = web.render(request, "console/login.html", {
        "login_csrf": web.csrf_token(f"login:{nonce}"), "error": error,
        "login_name": login_name, "captcha": captcha}, status=status)
    response.set_cookie(web.LOGIN_COOKIE, nonce, max_age=LOGIN_NONCE_S, path=web.PREFIX,
                        httponly=True, samesite="strict", secure=_secure(request))
    return response


@router.get("/login")
def login_page(request: Request) -> Response:
    """The sign-in form (straight to the console when already signed in)."""
    try:
        web.console_staff(request)
    except (web.LoginNeeded, HpfError):
        return _login_form(request)
    return RedirectResponse(web.PREFIX, status_code=303)


def _captcha(request: Request, error: HpfError) -> dict | None:
    """A new picture when identity asks for one (after repeated failures)."""
    if error.code not in ("CAPTCHA_REQUIRED", "BAD_CAPTCHA"):
        return None
    from hpf.identity import captcha

    with web.factory(request)() as db, db.begin():
        return captcha.new(db)


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the credentials and open a console session (cookie hpf_console)."""
    nonce = request.cookies.get(web.LOGIN_COOKIE)
    form = await web.read_form(request, f"login:{nonce}" if nonce else None)
    login_name = form.get("login_name", "").strip()[:64]
    password, otp = form.get("password", ""), form.get("otp", "").strip()
    extra = {}
    if form.get("captcha_id"):
        extra = {"captcha_id": form["captcha_id"][:64],
                 "captcha_answer": form.get("captcha_answer", "")[:16]}
    if not login_name or not password or len(password) > 128:
        return _login_form(request, error=InvalidInput("请输入登录名和密码", code="INVALID_INPUT"),
                           login_name=login_name, status=422)
    if not OTP.fullmatch(otp):
        return _login_form(request, error=InvalidInput("动态口令应为6位数字", code="INVALID_OTP"),
                           login_name=login_name, status=422)
    try:
        token = await run_in_threadpool(_sign_in, request, login_name, password, otp, extra)
    except HpfError as exc:
        captcha = await run_in_threadpool(_captcha, request, exc)
        return _login_form(request, error=exc, login_name=login_name, captcha=captcha,
                           status=exc.status)
    response = RedirectResponse(web.PREFIX, status_code=303)
    response.set_cookie(web.COOKIE, token, max_age=get_settings().session_absolute_timeout_s,
                        path=web.PREFIX, httponly=True, samesite="strict",
                        secure=_secure(request))
    response.delete_cookie(web.LOGIN_COOKIE, path=web.PREFIX)
    return response


def _sign_in(request: Request, login_name: str, password: str, otp: str, extra: dict) -> str:
    """identity.login in a transaction; a refusal keeps only its evidence (keep_writes)."""
    kept: HpfError | None = None
    with web.factory(request)() as db, db.begin():
        try:
            token, _principal = identity.login(
                db, "staff", login_name, password, CHANNEL,
                ip=request.client.host if request.client else None,
                user_agent=request.headers.get("user-agent"), otp=otp, **extra)
        except HpfError as exc:
            if not getattr(exc, "keep_writes", False):
                raise
            kept = exc
    if kept is not None:
        raise kept
    return token


def _sign_out(request: Request, token: str | None) -> None:
    with web.factory(request)() as db, db.begin():
        identity.logout(db, token)


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the console session and clear its cookie."""
    token = request.cookies.get(web.COOKIE)
    await web.read_form(request, token)
    await run_in_threadpool(_sign_out, request, token)
    response = RedirectResponse(f"{web.PREFIX}/login", status_code=303)
    response.delete_cookie(web.COOKIE, path=web.PREFIX)
    return response
