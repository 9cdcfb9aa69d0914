"""Job runs and their committed chunks: what makes a batch job resumable."""

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from hpf.kit.db import Base, BigId


class JobRun(Base):
    """One run of a named job for a key (e.g. interest-settlement / 2026-06-30)."""

    __tablename__ = "job_run"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(48))
    key: Mapped[str] = mapped_column(String(48))
    status: Mapped[str] = mapped_column(String(12))  # running | done | failed
    total_chunks: Mapped[int] = mapped_column(Integer, default=0)
    plan_json: Mapped[str | None] = mapped_column(Text)
    summary_json: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_job_run_name_key", "name", "key", unique=True),)


class JobChunk(Base):
    """A chunk committed together with the work it did; a rerun skips it."""

    __tablename__ = "job_chunk"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("job_run.id"))
    chunk_no: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    done_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_job_chunk_run", "run_id", "chunk_no", unique=True),)
