"""Per-user limits (限额控制) and one application in flight per business (在途业务控制).

An application's amount is its `amount_fen` parameter. The limits of a service on a channel
are a minimum and a maximum per application and a total per local calendar day over the
user's applications that succeeded or await a decision. An application over a limit gets the
limit warning with the limit, and nothing is written.
"""

from sqlalchemy import and_, func, select, text
from sqlalchemy.orm import Session

from hpf.catalog.access import Limits
from hpf.gateway.models import Command
from hpf.gateway.principal import Principal
from hpf.kit import clock
from hpf.kit.errors import Conflict, InvalidInput
from hpf.kit.money import format_yuan

COUNTED_STATUSES = ("running", "pending", "succeeded")


class LimitExceeded(InvalidInput):
    code = "LIMIT_EXCEEDED"
    message = "超出业务限额"


class InFlight(Conflict):
    code = "IN_FLIGHT_CONFLICT"
    message = "您有一笔同类业务正在办理中，请待其办结后再申请"


def amount_of(parsed: object) -> int | None:
    """The application's amount in fen, when the service has one."""
    amount = getattr(parsed, "amount_fen", None)
    return amount if isinstance(amount, int) and not isinstance(amount, bool) else None


def check(session: Session, service_code: str, principal: Principal, amount_fen: int | None,
          limits: Limits) -> None:
    """Refuse an amount outside the single limits or past the day's total."""
    if amount_fen is None or limits == Limits():
        return
    if limits.min_fen is not None and amount_fen < limits.min_fen:
        raise LimitExceeded(f"限额提示：单笔金额不得低于{format_yuan(limits.min_fen)}元",
                            limit="single_min", limit_fen=limits.min_fen)
    if limits.max_fen is not None and amount_fen > limits.max_fen:
        raise LimitExceeded(f"限额提示：单笔金额不得超过{format_yuan(limits.max_fen)}元",
                            limit="single_max", limit_fen=limits.max_fen)
    if limits.daily_max_fen is None:
        return
    _serialise(session, service_code, principal)
    used = used_today_fen(session, service_code, principal)
    if used + amount_fen > limits.daily_max_fen:
        raise LimitExceeded(
            f"限额提示：当日累计不得超过{format_yuan(limits.daily_max_fen)}元，"
            f"今日已申请{format_yuan(used)}元", limit="daily_max",
            limit_fen=limits.daily_max_fen, used_fen=used)


def used_today_fen(session: Session, service_code: str, principal: Principal) -> int:
    """Σ amount of the user's applications of a service today that count against the limit."""
    # The local day of now(), the clock the commands' created_at comes from.
    start = clock.local_day_start(clock.local_now().date())
    stmt = select(func.coalesce(func.sum(Command.amount_fen), 0)).where(
        Command.service_code == service_code, Command.created_at >= start,
        Command.status.in_(COUNTED_STATUSES), Command.amount_fen.is_not(None),
        _by_user(principal))
    return int(session.scalar(stmt) or 0)


def in_flight_key(service_code: str, principal: Principal, member_id: int | None,
                  employer_id: int | None) -> str | None:
    """The key of an application awaiting a decision: the service and whom it concerns."""
    if member_id is not None:
        return f"{service_code}:m{member_id}"
    if employer_id is not None:
        return f"{service_code}:u{employer_id}"
    if principal.user_id is not None:
        return f"{service_code}:{principal.kind}{principal.user_id}"
    return None  # an anonymous application (a registration) concerns no one yet


def own_key(service_code: str, principal: Principal) -> str | None:
    """The in-flight key of the principal's own business (members and employers)."""
    if principal.kind == "member":
        return in_flight_key(service_code, principal, principal.member_id, None)
    if principal.kind == "unit":
        return in_flight_key(service_code, principal, None, principal.employer_id)
    return None


def refuse_in_flight(session: Session, key: str | None) -> None:
    """Refuse when an application with the key awaits a decision."""
    if key is None:
        return
    pending = session.scalar(select(Command.id).where(Command.in_flight_key == key))
    if pending is not None:
        raise InFlight(application_no=f"YW{pending:012d}")


def _by_user(principal: Principal):
    if principal.kind == "member" and principal.member_id is not None:
        return and_(Command.member_id == principal.member_id, Command.actor_kind == "member")
    if principal.kind == "unit" and principal.employer_id is not None:
        return and_(Command.employer_id == principal.employer_id,
                    Command.actor_kind == "unit", Command.actor_id == principal.user_id)
    return and_(Command.actor_kind == principal.kind, Command.actor_id == principal.user_id)


def _serialise(session: Session, service_code: str, principal: Principal) -> None:
    """Make concurrent applications of one user wait for each other's daily total.

    SQLite already runs one writer at a time (BEGIN IMMEDIATE); PostgreSQL gets a transaction
    advisory lock on the user and service.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                    {"k": f"limit:{service_code}:{principal.kind}:{principal.user_id}"})
