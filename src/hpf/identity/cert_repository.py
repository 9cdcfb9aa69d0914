"""Every query of operator certificates and login challenges."""

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hpf.identity.cert_models import CertificateAuthority, LoginChallenge, OperatorCertificate
from hpf.identity.models import UserAccount


def authority(session: Session, label: str) -> CertificateAuthority | None:
    """The CA row of a label."""
    return session.scalars(
        select(CertificateAuthority).where(CertificateAuthority.label == label)).first()


def certificate_by_serial(session: Session, serial: str, *,
                          for_update: bool = False) -> OperatorCertificate | None:
    """An issued certificate by serial (locked for update on PostgreSQL when asked)."""
    stmt = select(OperatorCertificate).where(OperatorCertificate.serial == serial)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def certificate_by_fingerprint(session: Session, fingerprint: str) -> OperatorCertificate | None:
    """An issued certificate by its SHA-256 fingerprint."""
    return session.scalars(select(OperatorCertificate)
                           .where(OperatorCertificate.fingerprint == fingerprint)).first()


def active_count(session: Session, user_id: int) -> int:
    """How many certificates of a user are not revoked (expired ones included)."""
    return session.scalar(
        select(func.count()).select_from(OperatorCertificate)
        .where(OperatorCertificate.user_id == user_id, OperatorCertificate.status == "active")
    ) or 0


def certificates(session: Session, *, kind: str | None, login_name: str | None,
                 status: str | None, limit: int,
                 offset: int) -> list[tuple[OperatorCertificate, UserAccount]]:
    """Issued certificates with their accounts, newest first."""
    stmt = (select(OperatorCertificate, UserAccount)
            .join(UserAccount, UserAccount.id == OperatorCertificate.user_id))
    if kind is not None:
        stmt = stmt.where(UserAccount.kind == kind)
    if login_name is not None:
        stmt = stmt.where(UserAccount.login_name == login_name)
    if status is not None:
        stmt = stmt.where(OperatorCertificate.status == status)
    rows = session.execute(stmt.order_by(OperatorCertificate.id.desc())
                           .limit(limit).offset(offset))
    return [(cert, user) for cert, user in rows]


def challenge_for_update(session: Session, challenge_id: str) -> LoginChallenge | None:
    """A login challenge by its public id, locked for update on PostgreSQL."""
    return session.scalars(select(LoginChallenge)
                           .where(LoginChallenge.challenge_id == challenge_id)
                           .with_for_update()).first()


def purge_challenges(session: Session, expired_before: datetime) -> None:
    """Delete challenges that expired before a moment (they only matter for a short while)."""
    session.execute(delete(LoginChallenge).where(LoginChallenge.expires_at < expired_before))
