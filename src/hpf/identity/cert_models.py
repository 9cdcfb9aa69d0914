"""Operator certificate tables (数字证书): the centre's CA, the certificates it issued to employer
and developer operators, and the one-time challenges a certificate login signs.

Times are stored in UTC (SQLite hands them back without a zone; `certificates._utc` restores it).
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hpf.kit.db import Base, BigId

CERT_STATUSES = ("active", "revoked")


class CertificateAuthority(Base):
    """The centre's own root CA, created once on first need.

    The private key is a PKCS#8 PEM sealed with the platform field cipher
    (hpf.kit.crypto, context "idn_cert_authority.private_key"); `label` is unique so two
    processes creating the CA at the same moment cannot both succeed.
    """

    __tablename__ = "idn_cert_authority"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    label: Mapped[str] = mapped_column(String(16), unique=True)
    subject: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    certificate_pem: Mapped[str] = mapped_column(Text)
    private_key_enc: Mapped[str] = mapped_column(Text)
    not_before: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    not_after: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OperatorCertificate(Base):
    """A certificate the CA issued to one operator account (unit or developer).

    `issued_by` / `revoked_by` are the staff accounts that did it; NULL means the `hpf` command
    line (the system). Only the certificate is kept: the private key stays with the operator.
    """

    __tablename__ = "idn_operator_certificate"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    serial: Mapped[str] = mapped_column(String(40), unique=True)  # lower-case hex
    ca_id: Mapped[int] = mapped_column(ForeignKey("idn_cert_authority.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("idn_user_account.id"))
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the DER
    subject: Mapped[str] = mapped_column(String(200))
    not_before: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    not_after: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(10), default="active")
    certificate_pem: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("idn_user_account.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("idn_user_account.id"))
    reason: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        Index("ix_idn_operator_certificate_user", "user_id", "status"),
        CheckConstraint("status IN ('active', 'revoked')", name="status"),
    )


class LoginChallenge(Base):
    """A random challenge handed out for one certificate login attempt (120 s, used once).

    `user_id` is NULL when no account of that kind and login name exists: the challenge is
    handed out all the same, so asking for one does not reveal which login names exist.
    """

    __tablename__ = "idn_login_challenge"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    challenge_id: Mapped[str] = mapped_column(String(32), unique=True)
    nonce: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10))
    login_name: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("idn_user_account.id"))
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_idn_login_challenge_expires", "expires_at"),)
