"""Request dependencies of the JSON API: the transaction, the channel and the caller.

Use the `DbSession` alias (never a bare `Depends(get_db)`): FastAPI caches a dependency per
(callable, scope), so a second spelling would open a second session in the same request, and on
SQLite (BEGIN IMMEDIATE) the two would wait on each other. The alias ends the transaction when
the endpoint returns, before the response is sent, so a client never sees a result that was
not committed.
"""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from hpf.gateway.principal import ANONYMOUS, Principal
from hpf.identity import service as identity
from hpf.identity.domain import ROLES
from hpf.kit.db import read_transaction
from hpf.kit.errors import Forbidden, HpfError, Unauthorized

SESSION_COOKIE = "hpf_session"
CHANNEL_HEADER = "X-HPF-Channel"
MAX_TOKEN_LENGTH = 128


def get_db(request: Request) -> Iterator[Session]:
    """One session and transaction per request: commit on success, roll back on error.

    A refusal marked `keep_writes` (failed login, wrong SMS code) commits the evidence it left
    (failure counter, login event, attempt count) before it reaches the client.
    """
    factory = request.app.state.session_factory
    kept: HpfError | None = None
    with factory() as session:
        with session.begin():
            try:
                yield session
            except HpfError as exc:
                if not getattr(exc, "keep_writes", False):
                    raise
                kept = exc
        if kept is not None:
            raise kept


DbSession = Annotated[Session, Depends(get_db, scope="function")]


async def signed_channel(request: Request) -> str:
    """The channel of the registered client that signed this request (checked by
    hpf.channels.api.signed before routing)."""
    channel = getattr(request.state, "hpf_channel", None)
    if channel is None:  # a route outside the signed area asked for it: a wiring mistake
        raise Unauthorized("请求须由已登记的渠道终端签名", code="CLIENT_REQUIRED")
    return channel


Channel = Annotated[str, Depends(signed_channel)]


def request_token(request: Request) -> str | None:
    """The session token: `Authorization: Bearer …` first, then the hpf_session cookie."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()[: MAX_TOKEN_LENGTH + 1]
        return ""  # present but unusable: reported as an expired session, not as no login
    return request.cookies.get(SESSION_COOKIE)


def client_ip(request: Request) -> str | None:
    """The peer address (a trusted proxy's X-Forwarded-For is the lead's to configure)."""
    return request.client.host if request.client else None


def resolve_in(db: Session, token: str) -> tuple[Principal | None, bool]:
    """The caller of a token in a read transaction: (principal or None, session due for its
    idle-expiry slide)."""
    principal = identity.resolve(db, token, touch=False)
    return principal, principal is not None and identity.touch_due(db, principal)


def settle(factory, found: tuple[Principal | None, bool]) -> tuple[Principal, bool]:
    """Write the slide a read left due; (the principal or ANONYMOUS, token rejected)."""
    principal, due = found
    if due:
        with factory() as db, db.begin():
            identity.touch(db, principal.session_id)
    return (principal, False) if principal is not None else (ANONYMOUS, True)


async def current_principal(request: Request) -> Principal:
    """The caller of a live session, or ANONYMOUS.

    Resolved in a short transaction of its own, committed before the endpoint runs: the
    endpoint may open its own transactions (gateway.invoke does), and on SQLite an open
    transaction here would block them until busy_timeout.
    """
    # Async, so the usual case (answered from the request's state) costs no thread hop.
    resolved = getattr(request.state, "hpf_principal", None)
    if resolved is not None:  # the signed-request check looked the token up already
        return resolved
    token = request_token(request)
    request.state.hpf_token_rejected = False
    if token is None:
        return ANONYMOUS
    principal, rejected = await run_in_threadpool(_lookup, request.app.state.session_factory,
                                                  token)
    request.state.hpf_token_rejected = rejected
    return principal


def _lookup(factory, token: str) -> tuple[Principal, bool]:
    # A read, except every SEEN_WRITE_INTERVAL_S when the idle expiry slides: every signed-in
    # request passes here, and a read need not wait behind the writers' lock.
    with read_transaction(factory) as db:
        found = resolve_in(db, token)
    return settle(factory, found)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def require_principal(request: Request, principal: CurrentPrincipal) -> Principal:
    """The caller, who must be logged in (LOGIN_REQUIRED, or SESSION_EXPIRED for a dead token)."""
    if principal.kind == "anonymous":
        if getattr(request.state, "hpf_token_rejected", False):
            raise Unauthorized("登录已失效，请重新登录", code="SESSION_EXPIRED")
        raise Unauthorized("请先登录", code="LOGIN_REQUIRED")
    return principal


RequiredPrincipal = Annotated[Principal, Depends(require_principal)]


def require_staff(role: str | None = None):
    """A dependency admitting centre staff only, holding `role` when given (admin holds all)."""
    if role is not None and role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    async def staff_principal(principal: RequiredPrincipal) -> Principal:
        if not principal.is_staff:
            raise Forbidden("仅限公积金中心工作人员办理", code="STAFF_ONLY")
        if role is not None and not principal.has_role(role):
            raise Forbidden("您没有办理该业务的权限", code="ROLE_REQUIRED", role=role)
        return principal

    return staff_principal
