"""Published information: one row per article and version."""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hpf.kit.db import Base, BigId


class Article(Base):
    """An article of one kind (news, policy, guide, faq, download). A change publishes a new
    version and keeps the old one (superseded): what a member read on a day can be shown."""

    __tablename__ = "pub_article"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(12))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    channels: Mapped[str] = mapped_column(String(200))  # comma-separated channel codes
    status: Mapped[str] = mapped_column(String(12))  # published | superseded | withdrawn
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    made_by: Mapped[str | None] = mapped_column(String(64))
    command_id: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_pub_article_slug", "slug", "version", unique=True),
        Index("ix_pub_article_list", "kind", "status", "published_at"),
        CheckConstraint("kind IN ('news', 'policy', 'guide', 'faq', 'download')", name="kind"),
        CheckConstraint("status IN ('published', 'superseded', 'withdrawn')", name="status"),
    )
