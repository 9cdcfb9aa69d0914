"""Tables of user security: captchas, channel bindings, SMS notice signing and consents.

Times are stored in UTC. External identifiers of bindings (a WeChat openid, a device id, a
kiosk card number) are personal data: stored encrypted (hpf.kit.sealed) with a blind index for
lookup, never in plain text.
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from hpf.kit.db import Base, BigId
from hpf.kit.sealed import INDEX_CHARS, Sealed

BINDING_KINDS = ("wechat_openid", "app_device", "kiosk_card")


class Captcha(Base):
    """A picture captcha (图形验证码): only the keyed hash of its id and of its answer is kept."""

    __tablename__ = "idn_captcha"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    answer_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Spent by the first answer, right or wrong: one picture, one guess.
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_idn_captcha_expires", "expires_at"),)


class ChannelBinding(Base):
    """A channel account bound to a user (渠道绑定): WeChat openid, app device, kiosk card.

    One active binding per (kind, external id): the same WeChat account cannot sign two people
    in. Unbinding keeps the row (unbound_at) as the history the hotline is asked about.
    """

    __tablename__ = "idn_channel_binding"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("idn_user_account.id"))
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    external: Mapped[str] = mapped_column("external_enc",
                                          Sealed("idn_channel_binding.external", length=400))
    external_bidx: Mapped[str] = mapped_column(String(INDEX_CHARS))
    label: Mapped[str | None] = mapped_column(String(64))
    bound_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unbound_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unbound_by: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_idn_channel_binding_user", "user_id", "unbound_at"),
        # Partial unique index: only live bindings collide (both engines support WHERE).
        Index("ux_idn_channel_binding_live", "kind", "external_bidx", unique=True,
              sqlite_where=text("unbound_at IS NULL"),
              postgresql_where=text("unbound_at IS NULL")),
        CheckConstraint("kind IN ('wechat_openid', 'app_device', 'kiosk_card')", name="kind"),
    )


class SmsSigning(Base):
    """A member's 12329 SMS notice signing (短信签约): one row per member, shared by every channel.

    `version` grows with each change so a channel holding an older state learns it is stale.
    """

    __tablename__ = "idn_sms_signing"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("dep_member.id"), unique=True)
    status: Mapped[str] = mapped_column(String(10))  # signed | cancelled
    method: Mapped[str] = mapped_column(String(16))  # sms_code | bank_card | counter
    channel: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint("status IN ('signed', 'cancelled')", name="status"),
        CheckConstraint("method IN ('sms_code', 'bank_card', 'counter')", name="method"),
        CheckConstraint("version >= 1", name="version_pos"),
    )


class Consent(Base):
    """A member's consent to share their data with a third party for a purpose (授权).

    Data leaves for a party only while a consent is live (granted, not revoked, not expired).
    """

    __tablename__ = "idn_consent"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("dep_member.id"))
    party: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    granted_by: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_idn_consent_member", "member_id", "party", "purpose"),)
