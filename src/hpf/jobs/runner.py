"""Resumable, chunked batch jobs with a progress bar and a summary.

A job run is keyed by (name, key). Its chunk plan is stored when the run starts, and each chunk
commits together with a JobChunk row, so after a crash the rerun skips committed chunks and
never posts anything twice. A finished run is not repeated: running it again reports the
stored summary and changes nothing.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hpf.jobs.models import JobChunk, JobRun
from hpf.kit import clock


@dataclass
class JobResult:
    """What a run did: chunks done now, chunks skipped, rows and amounts, stored summary."""

    name: str
    key: str
    status: str
    chunks_run: int
    chunks_skipped: int
    rows: int
    amount_fen: int
    already_done: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return self.__dict__.copy()


Plan = Callable[[Session], list[Any]]
Chunk = Callable[[Session, Any, int], tuple[int, int]]


def run_job(factory: sessionmaker[Session], name: str, key: str, plan: Plan, chunk: Chunk,
            *, show_progress: bool = False) -> JobResult:
    """Run (or resume) a job; `chunk(session, spec, chunk_row_id)` returns (rows, fen)."""
    run_id, specs, status = _start(factory, name, key, plan)
    if status == "done":
        with factory() as session:
            run = session.get(JobRun, run_id)
            stored = json.loads(run.summary_json or "{}")
        return JobResult(name, key, "done", 0, len(specs), stored.get("rows", 0),
                         stored.get("amount_fen", 0), already_done=True)
    with factory() as session:
        done = set(session.scalars(select(JobChunk.chunk_no).where(JobChunk.run_id == run_id)))
    rows = amount = ran = 0
    progress = Progress(TextColumn(f"[bold]{name}[/] {key}"), BarColumn(),
                        MofNCompleteColumn(), TimeElapsedColumn(), disable=not show_progress)
    with progress:
        task = progress.add_task(name, total=len(specs), completed=len(done))
        for number, spec in enumerate(specs):
            if number in done:
                continue
            with factory() as session, session.begin():
                marker = JobChunk(run_id=run_id, chunk_no=number)
                session.add(marker)
                session.flush()
                n, fen = chunk(session, spec, marker.id)
                marker.rows, marker.amount_fen = n, fen
            rows, amount, ran = rows + n, amount + fen, ran + 1
            progress.advance(task)
    with factory() as session, session.begin():
        run = session.get(JobRun, run_id)
        totals = session.execute(
            select(JobChunk.rows, JobChunk.amount_fen).where(JobChunk.run_id == run_id)).all()
        summary = {"rows": sum(r for r, _ in totals), "amount_fen": sum(a for _, a in totals),
                   "chunks": len(specs)}
        run.status = "done"
        run.summary_json = json.dumps(summary)
        run.finished_at = clock.now()
    return JobResult(name, key, "done", ran, len(done), summary["rows"], summary["amount_fen"])


def _start(factory: sessionmaker[Session], name: str, key: str,
           plan: Plan) -> tuple[int, list[Any], str]:
    with factory() as session, session.begin():
        run = session.scalars(select(JobRun).where(JobRun.name == name, JobRun.key == key)).first()
        if run is not None:
            return run.id, json.loads(run.plan_json), run.status
        specs = plan(session)
    try:
        with factory() as session, session.begin():
            run = JobRun(name=name, key=key, status="running", total_chunks=len(specs),
                         plan_json=json.dumps(specs))
            session.add(run)
            session.flush()
            return run.id, specs, "running"
    except IntegrityError:
        return _start(factory, name, key, plan)


def id_ranges(lo: int | None, hi: int | None, size: int) -> list[list[int]]:
    """Split ids lo..hi into [start, stop) ranges of `size`."""
    if lo is None or hi is None:
        return []
    return [[start, min(start + size, hi + 1)] for start in range(lo, hi + 1, size)]
