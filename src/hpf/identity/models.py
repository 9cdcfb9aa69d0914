"""Identity tables: user accounts, sessions, one-time codes and the login log.

Times are stored in UTC. SQLite hands them back without a time zone; `service._utc` puts it back
before any comparison.
"""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from hpf.kit.db import Base, BigId
from hpf.kit.sealed import INDEX_CHARS, Sealed

KINDS = ("member", "unit", "developer", "staff")
STATUSES = ("active", "locked", "disabled")


class UserAccount(Base):
    """One login of a member, an employer's (or developer's) operator, or centre staff.

    Members log in with their ID number; operators and staff with a login name. A login name is
    unique within its kind. A member's login name is the blind index of the ID number
    (hpf.kit.sealed.id_number_index), never the number itself. A member has at most one
    account (registration is once for every channel; channel bindings hang off this account).
    """

    __tablename__ = "idn_user_account"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    login_name: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("dep_member.id"))
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("dep_employer.id"))
    phone: Mapped[str | None] = mapped_column("phone_enc", Sealed("idn_user_account.phone"))
    # Comma-separated staff roles; RBAC tables may replace this column later.
    roles: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(10), default="active")
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set with status "locked" by too many failures; NULL with "locked" means locked by staff.
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Staff only: the TOTP secret (encrypted, hpf.kit.crypto) and the last step accepted.
    totp_secret_enc: Mapped[str | None] = mapped_column(String(200))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_idn_user_account_login", "kind", "login_name", unique=True),
        Index("ix_idn_user_account_member", "member_id", unique=True),
        Index("ix_idn_user_account_employer", "employer_id"),
        CheckConstraint("kind IN ('member', 'unit', 'developer', 'staff')", name="kind"),
        CheckConstraint("status IN ('active', 'locked', 'disabled')", name="status"),
        CheckConstraint("failed_count >= 0", name="failed_nonneg"),
    )


class AuthSession(Base):
    """A server-side login session. Only the SHA-256 of the bearer token is stored."""

    __tablename__ = "idn_session"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("idn_user_account.id"))
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    idle_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    absolute_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(24))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (Index("ix_idn_session_user", "user_id", "revoked_at"),)


class OtpCode(Base):
    """An SMS one-time code; only its keyed hash and the phone's blind index are stored."""

    __tablename__ = "idn_otp_code"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    phone_bidx: Mapped[str] = mapped_column(String(INDEX_CHARS))
    purpose: Mapped[str] = mapped_column(String(24))
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_idn_otp_code_phone", "phone_bidx", "purpose", "id"),
        Index("ix_idn_otp_code_recent", "phone_bidx", "created_at"),
    )


class LoginEvent(Base):
    """One login attempt, successful or not (登录日志, q.login_log).

    For members `login_name` holds the blind index of the ID number typed, as on the account.
    """

    __tablename__ = "idn_login_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("idn_user_account.id"))
    login_name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(10))  # success | failure
    reason: Mapped[str | None] = mapped_column(String(32))  # error code of a failure
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_idn_login_event_user", "user_id", "id"),
        Index("ix_idn_login_event_name", "kind", "login_name", "id"),
    )
