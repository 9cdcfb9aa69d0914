"""create_app(): the API, the pages, the staff console, behind the gateway."""

import contextlib
import gc
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hpf.config import get_settings
from hpf.kit import sqlite_checkpoint
from hpf.kit.db import session_factory
from hpf.kit.errors import HpfError
from hpf.kit.logs import configure_logging

log = structlog.get_logger()


SWITCH_INTERVAL_S = 0.0005


@contextlib.asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """The server's lifetime: its start-up heap frozen, a shorter GIL switch interval and, on
    SQLite, background checkpoints; the interval and the checkpoints undone at shutdown.

    The application's own objects (routes, models, SQLAlchemy metadata, templates: about
    200,000) live as long as the process. Left in the oldest generation, every full collection
    walks them all and stalls each request in flight by 70-90 ms, which was most of the p99
    at half load (bench.gateway_http). Frozen, a full collection walks only what requests
    created since.
    """
    gc.collect()
    gc.freeze()
    # A request thread back from the database waits for the GIL up to the switch interval
    # while another thread computes, and it may hold a row lock (the audit chain's head) that
    # every other request then waits on too. 0.5 ms instead of Python's 5 ms brought the p95 of
    # bench.gateway_http at half load on PostgreSQL from about 55 ms to under 30 ms.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    # On SQLite, WAL checkpoints run in a thread of their own instead of inside whichever
    # request's commit fills the log (hpf.kit.sqlite_checkpoint).
    checkpointer = sqlite_checkpoint.start(_app.state.session_factory.kw["bind"])
    try:
        yield
    finally:
        if checkpointer is not None:
            checkpointer.stop()
        sys.setswitchinterval(switch_interval)


def create_app(database_url: str | None = None) -> FastAPI:
    """Build the application bound to a database."""
    settings = get_settings()
    configure_logging()  # personal data masked in every log line (hpf.kit.logs)
    app = FastAPI(title="住房公积金综合服务平台", version="0.1.0", lifespan=_lifespan,
                  description="Housing Provident Fund comprehensive service platform")
    app.state.session_factory = session_factory(database_url or settings.database_url)
    from hpf.channels.api.signed import SignedRequests, error_response

    # Added first, so it runs inside limit_body: an oversized request is refused by its
    # declared length before any of it is read.
    app.add_middleware(SignedRequests, max_body_bytes=max(settings.max_request_bytes,
                                                          settings.max_upload_bytes))

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        length = request.headers.get("content-length")
        limit = settings.max_upload_bytes if request.url.path.startswith("/api/v1/uploads") \
            else settings.max_request_bytes
        if length and length.isdigit() and int(length) > limit:
            return JSONResponse({"code": "PAYLOAD_TOO_LARGE", "message": "提交的内容过大"},
                                status_code=413)
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.url.path.startswith("/api/"):
            # Answers carry personal data: no shared or browser cache may keep them.
            response.headers.setdefault("Cache-Control", "no-store")
        if request.url.scheme == "https":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    @app.exception_handler(HpfError)
    async def on_business_error(_request: Request, exc: HpfError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(str(p) for p in e.get("loc", ())), "type": e.get("type"),
                   "detail": e.get("msg")} for e in exc.errors()]
        return JSONResponse({"code": "INVALID_INPUT", "message": "请求参数有误",
                             "details": {"errors": errors}}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        messages = {404: "页面不存在", 405: "不支持的请求方法"}
        return JSONResponse({"code": f"HTTP_{exc.status_code}",
                             "message": messages.get(exc.status_code, "请求无效")},
                            status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            # The database went away under a pooled connection (restart, failover): the pool
            # is renewed, and a retry will find it. Not the caller's fault, not a bug.
            log.warning("database connection lost", path=request.url.path)
            return JSONResponse({"code": "DATABASE_RECONNECTING",
                                 "message": "系统繁忙，请稍后重试"}, status_code=503,
                                headers={"Retry-After": "1"})
        log.error("unhandled", path=request.url.path, error=repr(exc))
        return JSONResponse({"code": "INTERNAL_ERROR", "message": "系统繁忙，请稍后再试"},
                            status_code=500)

    from hpf.channels.api import auth, exports, management, services

    app.include_router(auth.router)
    from hpf.channels.api import certificates

    app.include_router(certificates.router)
    app.include_router(services.public_router)
    app.include_router(services.router)
    app.include_router(exports.router)
    app.include_router(management.router)
    from hpf.channels.api import security

    app.include_router(security.router)
    from hpf.channels.api import materials

    app.include_router(materials.router)

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict:
        return {"status": "ok"}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> HTMLResponse:
        from hpf.channels.web.pages import render_home

        return render_home(request)

    from hpf.channels.web import pages

    app.include_router(pages.router)

    from hpf.admin.routes import router as console

    app.include_router(console)
    app.mount("/static", StaticFiles(directory=Path(__file__).with_name("static")), name="static")
    return app
