"""Application materials: one row per uploaded file; the file itself lives encrypted on disk."""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hpf.kit.db import Base, BigId
from hpf.kit.sealed import Sealed

OWNER_KINDS = ("member", "employer", "developer")
CONTENT_TYPES = ("application/pdf", "image/jpeg", "image/png")
# A file name of 100 characters, each up to 4 bytes of UTF-8, as an AES-GCM token in base64.
FILE_NAME_TOKEN_CHARS = 600


class Material(Base):
    """An uploaded supporting document (rent contract, invoice, certificate…) of one owner.

    The owner is a member, an employer or a developer; `used_by_command_id` is the stored
    command of the application that consumed it: a material backs one application only.
    The original file name can name the person, so it is sealed like other personal data.
    """

    __tablename__ = "mat_material"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(10))
    owner_id: Mapped[int] = mapped_column(BigInteger)
    uploaded_by: Mapped[int | None] = mapped_column(BigInteger)  # idn_user_account.id
    channel: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(
        "file_name_enc", Sealed("mat_material.file_name", length=FILE_NAME_TOKEN_CHARS))
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_path: Mapped[str] = mapped_column(String(100))  # relative to settings.materials_dir
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_by_command_id: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_mat_material_owner", "owner_kind", "owner_id", "used_by_command_id"),
        Index("ix_mat_material_command", "used_by_command_id"),
        # The sweep asks whether any row still names a file before deleting it.
        Index("ix_mat_material_stored_path", "stored_path"),
        CheckConstraint("owner_kind IN ('member', 'employer', 'developer')", name="owner_kind"),
        CheckConstraint("content_type IN ('application/pdf', 'image/jpeg', 'image/png')",
                        name="content_type"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
    )
