"""Every query of the identity area."""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hpf.deposits.models import Employer, Member
from hpf.identity.models import AuthSession, LoginEvent, OtpCode, UserAccount
from hpf.kit.sealed import id_number_index, phone_index


def member_by_id_number(session: Session, id_number: str) -> Member | None:
    """The member record of an (18-character) ID number.

    Read here, not through the deposits service, only because that service has no lookup yet.
    """
    return session.scalars(
        select(Member).where(Member.id_number_bidx == id_number_index(id_number))).first()


def employer_exists(session: Session, employer_id: int) -> bool:
    """True when an employer account of that id exists."""
    return session.scalar(select(Employer.id).where(Employer.id == employer_id)) is not None


def user_by_id(session: Session, user_id: int, *, for_update: bool = False) -> UserAccount | None:
    """An account by id (locked for update on PostgreSQL when asked)."""
    stmt = select(UserAccount).where(UserAccount.id == user_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def user_by_login(session: Session, kind: str, login_name: str, *,
                  for_update: bool = False) -> UserAccount | None:
    """An account by kind and login name (locked for update on PostgreSQL when asked)."""
    stmt = select(UserAccount).where(UserAccount.kind == kind,
                                     UserAccount.login_name == login_name)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def user_by_member(session: Session, member_id: int) -> UserAccount | None:
    """The account of a member, if registered."""
    return session.scalars(select(UserAccount).where(UserAccount.member_id == member_id)).first()


def latest_otp(session: Session, phone: str, purpose: str | None = None) -> OtpCode | None:
    """The newest code sent to a phone (for one purpose, or any)."""
    stmt = select(OtpCode).where(OtpCode.phone_bidx == phone_index(phone))
    if purpose is not None:
        stmt = stmt.where(OtpCode.purpose == purpose)
    return session.scalars(stmt.order_by(OtpCode.id.desc()).limit(1)).first()


def otp_count_since(session: Session, phone: str, since: datetime) -> int:
    """How many codes a phone was sent from a moment on."""
    return session.scalar(
        select(func.count()).select_from(OtpCode)
        .where(OtpCode.phone_bidx == phone_index(phone), OtpCode.created_at > since)
    ) or 0


def session_and_user(session: Session, token_hash: str) -> tuple[AuthSession, UserAccount] | None:
    """A login session by token hash, with its account."""
    row = session.execute(
        select(AuthSession, UserAccount)
        .join(UserAccount, UserAccount.id == AuthSession.user_id)
        .where(AuthSession.token_hash == token_hash)
    ).first()
    return (row[0], row[1]) if row else None


def session_by_hash(session: Session, token_hash: str) -> AuthSession | None:
    """A login session by token hash."""
    return session.scalars(select(AuthSession).where(AuthSession.token_hash == token_hash)).first()


def open_sessions(session: Session, user_id: int) -> list[AuthSession]:
    """A user's sessions that were not revoked (expired ones included)."""
    return list(session.scalars(
        select(AuthSession).where(AuthSession.user_id == user_id,
                                  AuthSession.revoked_at.is_(None))
    ))


def login_events(session: Session, user_id: int, limit: int = 50) -> list[LoginEvent]:
    """A user's most recent login attempts, newest first."""
    return list(session.scalars(
        select(LoginEvent).where(LoginEvent.user_id == user_id)
        .order_by(LoginEvent.id.desc()).limit(limit)
    ))


def member_by_no(session: Session, member_no: str) -> Member | None:
    """A member by their account number (个人账号)."""
    return session.scalars(select(Member).where(Member.member_no == member_no)).first()


def member_by_id(session: Session, member_id: int) -> Member | None:
    """The member record behind a login."""
    return session.get(Member, member_id)
