"""Business components register their service handlers here, by catalogue code."""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from sqlalchemy.orm import Session

from hpf.gateway.principal import Principal


class Params(BaseModel):
    """Base of every service's parameters: unknown fields are refused, strings trimmed, and no
    string may hold NUL (PostgreSQL cannot store it; the API refuses it earlier, this covers
    the pages and jobs that call the gateway in process)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, str_max_length=500)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if _holds_nul(data):
            raise ValueError("含有不可见的空字符")
        return data


def _holds_nul(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if depth > 20:
        return False
    if isinstance(value, dict):
        return any(_holds_nul(k, depth + 1) or _holds_nul(v, depth + 1) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v, depth + 1) for v in value)
    return False


class NoParams(Params):
    """A service that takes no parameters."""


@dataclass
class Ctx:
    """What a handler gets: the transaction, the caller, the channel and its command id."""

    session: Session
    principal: Principal
    channel: str
    command_id: int | None = None
    # Set by a handler so the command is filed under the employer/member it concerns.
    employer_id: int | None = None
    member_id: int | None = None
    # Set by a reviewed business with a statutory decision deadline (withdrawals: 3 working
    # days); the approval queue shows what is about to miss it.
    due_on: date | None = None
    # What the handler's prepare step found outside, before this transaction began.
    prepared: Any = None


Execute = Callable[[Ctx, Any], dict]
Review = Callable[[Ctx, Any], int]
Reject = Callable[[Ctx, Any, int], None]
Prepare = Callable[[Ctx, Any], Any]


@dataclass(frozen=True)
class Handler:
    """A service implementation.

    `review` (optional) validates an application and returns how many staff approvals it
    needs (0: execute at once). `execute` performs the business and returns the result.
    `on_reject` undoes what `review` set aside (reservations) when staff reject it.
    `prepare` (optional) asks the outside systems an application needs (shared data, the
    bank) in a read-only transaction before the application's own begins, so no lock is held
    while they answer; `review` finds its answer in `ctx.prepared` (None when it did not run).
    """

    code: str
    params: type[Params]
    execute: Execute
    review: Review | None = None
    on_reject: Reject | None = None
    allow_anonymous: bool = False
    prepare: Prepare | None = None


_handlers: dict[str, Handler] = {}


def register(handler: Handler) -> Handler:
    """Add a handler; a code can be registered once."""
    if handler.code in _handlers and _handlers[handler.code] is not handler:
        raise ValueError(f"duplicate handler for {handler.code}")
    _handlers[handler.code] = handler
    return handler


def service(code: str, params: type[Params] = NoParams, *, review: Review | None = None,
            on_reject: Reject | None = None, allow_anonymous: bool = False):
    """Decorator registering `execute` for a catalogue code."""

    def wrap(fn: Execute) -> Execute:
        register(Handler(code, params, fn, review, on_reject, allow_anonymous))
        return fn

    return wrap


@dataclass(frozen=True)
class Management:
    """A management change (maker-checker): its Chinese name, the role that may make it and
    what it applies to (one pending change per target; None: no such limit)."""

    code: str
    name_zh: str
    role: str
    handler: Handler
    target: Callable[[Any], str | None]


_management: dict[str, Management] = {}


def register_management(code: str, name_zh: str, role: str, params: type[Params],
                        execute: Execute, *, target: Callable[[Any], str | None]) -> Management:
    """Add a management change; its handler runs when a second staff member approves it."""
    if not code.startswith("mgmt."):
        raise ValueError("management codes start with mgmt.")
    op = Management(code, name_zh, role, Handler(code, params, execute), target)
    register(op.handler)
    _management[code] = op
    return op


def management(code: str) -> Management | None:
    """A management change by code."""
    load_components()
    return _management.get(code)


def management_changes() -> list[Management]:
    """Every management change, by code."""
    load_components()
    return [_management[c] for c in sorted(_management)]


def get(code: str) -> Handler | None:
    """The handler of a code, loading the business components on first use."""
    load_components()
    return _handlers.get(code)


def implemented() -> set[str]:
    """Codes with a handler."""
    load_components()
    return set(_handlers)


_loaded = False
_loading = threading.RLock()


def load_components() -> None:
    """Import the modules that register handlers (once)."""
    global _loaded
    if _loaded:
        return
    # Mark loaded only once the imports are done, under a lock: concurrent first requests
    # otherwise saw _loaded set before the handlers registered and answered
    # SERVICE_NOT_AVAILABLE. Re-entrant, should an imported module ask for a handler.
    with _loading:
        if _loaded:
            return
        import hpf.catalog.management  # noqa: F401
        import hpf.deposits.handlers  # noqa: F401
        import hpf.identity.handlers  # noqa: F401
        import hpf.publishing.service  # noqa: F401
        import hpf.queries.handlers  # noqa: F401
        import hpf.withdrawals.handlers  # noqa: F401

        _loaded = True
