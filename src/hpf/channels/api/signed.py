"""Signed requests (接入鉴权): every /api/ request but the public catalogue must be signed by
a registered channel client (hpf.gateway.clients).

An ASGI middleware rather than a dependency, because a signature covers the body as sent and
FastAPI parses a form upload before any dependency could read the raw bytes. The body is read
once (never past the upload limit), checked, and handed on to the application unchanged; the
client's channel lands in `request.state.hpf_channel`.
"""

from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hpf.channels.api import deps
from hpf.gateway import clients
from hpf.kit.errors import HpfError, InvalidInput, TooLarge

CHANNEL_HEADER = "x-hpf-channel"
PUBLIC = {("GET", "/api/v1/services")}
# A closed channel refuses every request but these: staff must be able to sign in and reopen
# it (a login alone reaches no business: each service call is refused on a closed channel).
MANAGEMENT_PATHS = ("/api/v1/mgmt/", "/api/v1/approvals", "/api/v1/auth/")


def error_response(exc: HpfError) -> JSONResponse:
    """The JSON answer to a refusal (429 carries Retry-After)."""
    headers = None
    if exc.status == 429:
        headers = {"Retry-After": str(exc.details.get("retry_after_s", 60))}
    return JSONResponse(exc.to_dict(), status_code=exc.status, headers=headers)


class SignedRequests:
    """Refuse an unsigned, badly signed, stale or replayed API request before routing."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the signature of an API request, then pass it on with its body."""
        if scope["type"] != "http" or not scope["path"].startswith("/api/") \
                or (scope["method"], scope["path"]) in PUBLIC:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive, self.max_body_bytes)
        try:
            if body is None:
                raise TooLarge("提交的内容过大", code="PAYLOAD_TOO_LARGE")
            _refuse_nul(scope, body)
            channel, client_id, caller = await run_in_threadpool(_verify, scope, body)
        except HpfError as exc:
            await error_response(exc)(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["hpf_channel"], state["hpf_client"] = channel, client_id
        if caller is not None:
            state["hpf_principal"], state["hpf_token_rejected"] = caller
        await self.app(scope, _replay(body, receive), send)


def _verify(scope: Scope, body: bytes) -> tuple[str, str, tuple | None]:
    """The signing client's channel and id, and the caller of the presented session token
    (looked up in the same read transaction as the client: one transaction, not two)."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    raw_path = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string") or b""
    path = raw_path.decode("latin-1") + (f"?{query.decode('latin-1')}" if query else "")
    factory = scope["app"].state.session_factory
    token = deps.request_token(Request(scope))
    client, found = clients.admit_request(
        factory, _Caseless(headers), scope["method"], path, body,
        claimed_channel=headers.get(CHANNEL_HEADER, "").strip() or None,
        channel_may_be_closed=scope["path"].startswith(MANAGEMENT_PATHS),
        then=(lambda db: deps.resolve_in(db, token)) if token is not None else None)
    caller = deps.settle(factory, found) if found is not None else None
    return client.channel, client.client_id, caller


def _refuse_nul(scope: Scope, body: bytes) -> None:
    """No text the platform stores may hold NUL: PostgreSQL refuses it in a text column (a 500
    deep inside a use case), SQLite would keep it. Refused here once for every JSON API;
    uploads are binary and are read by their own parsers."""
    headers = dict(scope["headers"])
    multipart = headers.get(b"content-type", b"").startswith(b"multipart/")
    in_url = b"%00" in (scope.get("raw_path") or b"") + (scope.get("query_string") or b"")
    if in_url or (not multipart and (b"\\u0000" in body or b"\x00" in body)):
        raise InvalidInput("提交的内容含有不可见的空字符", code="INVALID_CHARACTERS")


class _Caseless(dict):
    def get(self, key, default=None):  # noqa: ANN001, ANN201
        return super().get(key.lower(), default)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Callable[[], Awaitable[Message]]:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
