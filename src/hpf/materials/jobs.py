"""Materials sweep (材料清理): `hpf jobs run materials-sweep --date D`.

Two passes, each in chunks with one set-based statement per chunk:

1. Unused materials (no application took them) uploaded before the local day that is
   `materials.unused_retention_days` days before D are deleted: the rows first, committed,
   then each freed file that no remaining row names (a file is shared by every upload of the
   same content). A material used by an application is never deleted: the DELETE itself
   re-checks `used_by_command_id IS NULL`, so an application taking it meanwhile wins.
2. Files on disk that no row names are deleted once older than a day: an upload writes its
   file before its row, so a crashed or rolled-back upload leaves one behind (and a crashed
   write a temporary file).

Files go only after the rows' transaction committed: a crash in between leaves an orphan file
for the next run, never a row without its file. Running the sweep again is harmless: it finds
only what became due since. Each run appends one audit record with its counts.
"""

import logging
import os
import re
import time
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from hpf.audit import service as audit
from hpf.catalog import params
from hpf.kit import clock
from hpf.materials import storage
from hpf.materials.models import Material

JOB = "materials-sweep"
RETENTION_PARAM = "materials.unused_retention_days"
# Rows deleted (and file names checked) per transaction: one IN list of this many binds.
CHUNK_ROWS = 1000
# A file younger than this may belong to an upload whose row is not committed yet. Measured
# on the real clock, not the business date: file times are written by the real one.
ORPHAN_GRACE_S = 24 * 3600
# What storage.write leaves under root(): "ab/<sha256>.bin" and, from a crashed write,
# ".<sha256>.bin.<uuid hex>.tmp". Anything else in the directory is not ours to delete.
_FAN_OUT = re.compile(r"[0-9a-f]{2}")
_FILE = re.compile(r"([0-9a-f]{64})\.bin")
_TEMPORARY = re.compile(r"\.[0-9a-f]{64}\.bin\.[0-9a-f]{32}\.tmp")
_RELATIVE = re.compile(r"([0-9a-f]{2})/\1[0-9a-f]{62}\.bin")

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    """What one sweep run deleted and kept."""

    day: str
    retention_days: int
    uploaded_before: str
    rows_deleted: int = 0
    files_deleted: int = 0  # files of the deleted rows
    files_shared_kept: int = 0  # still named by another row
    files_recent_kept: int = 0  # of deleted rows, touched within the grace period
    # (an upload of the same content may be reusing it; a later run takes it)
    orphans_deleted: int = 0  # files no row named, older than the grace period
    temporaries_deleted: int = 0
    unknown_left: int = 0  # names storage.write never makes: left alone
    failures: int = 0  # files that could not be deleted (logged; the next run retries)

    def as_dict(self) -> dict:
        """JSON form."""
        return asdict(self)


def run_materials_sweep(factory: sessionmaker[Session], day: date, *,
                        chunk_size: int | None = None, root: Path | None = None) -> SweepResult:
    """Delete expired unused materials and orphan files as of `day`; audited once per run."""
    size = max(1, min(chunk_size or CHUNK_ROWS, CHUNK_ROWS))
    base = root or storage.root()
    with factory() as session:
        retention = int(params.get(session, RETENTION_PARAM, day))
    cutoff = clock.local_day_start(day - timedelta(days=retention))
    result = SweepResult(day=day.isoformat(), retention_days=retention,
                         uploaded_before=cutoff.isoformat())
    _sweep_rows(factory, base, cutoff, size, result)
    _sweep_orphans(factory, base, size, result)
    with factory() as session, session.begin():
        audit.record(session, "material.sweep", "partial" if result.failures else "success",
                     actor_kind="system", actor_name=JOB, detail=result.as_dict())
    return result


def _sweep_rows(factory: sessionmaker[Session], base: Path, cutoff: datetime, size: int,
                result: SweepResult) -> None:
    after = 0
    while True:
        with factory() as session, session.begin():
            ids = list(session.scalars(
                select(Material.id).where(Material.id > after,
                                          Material.used_by_command_id.is_(None),
                                          Material.uploaded_at < cutoff)
                .order_by(Material.id).limit(size)))
            if not ids:
                return
            after = ids[-1]
            gone = session.execute(
                delete(Material).where(Material.id.in_(ids),
                                       Material.used_by_command_id.is_(None))
                .returning(Material.id, Material.stored_path)
                .execution_options(synchronize_session=False)).all()
            result.rows_deleted += len(gone)
            freed = {relative for _, relative in gone}
            named = _named(session, freed)
        result.files_shared_kept += len(freed & named)
        for relative in sorted(freed - named):
            _delete_file(base, relative, result, orphan=False)


def _named(session: Session, relatives: set[str]) -> set[str]:
    """Which of these stored paths some row still names (one indexed query)."""
    if not relatives:
        return set()
    return set(session.scalars(select(Material.stored_path).distinct()
                               .where(Material.stored_path.in_(sorted(relatives)))))


def _old(stat: os.stat_result) -> bool:
    return time.time() - stat.st_mtime > ORPHAN_GRACE_S


def _delete_file(base: Path, relative: str, result: SweepResult, *, orphan: bool) -> None:
    if not _RELATIVE.fullmatch(relative):  # a damaged row must not aim outside root()
        result.unknown_left += 1
        return
    path = base / relative
    try:
        if not _old(path.stat()):
            result.files_recent_kept += 1
            return
        path.unlink()
    except FileNotFoundError:
        return
    except OSError as exc:
        log.warning("materials sweep could not delete %s: %s", path, exc)
        result.failures += 1
        return
    if orphan:
        result.orphans_deleted += 1
    else:
        result.files_deleted += 1


def _sweep_orphans(factory: sessionmaker[Session], base: Path, size: int,
                   result: SweepResult) -> None:
    if not base.is_dir():
        return
    batch: list[str] = []
    for directory in sorted(base.iterdir()):
        if not (directory.is_dir() and not directory.is_symlink()
                and _FAN_OUT.fullmatch(directory.name)):
            result.unknown_left += 1
            continue
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            if not entry.is_file(follow_symlinks=False):
                result.unknown_left += 1
            elif _TEMPORARY.fullmatch(entry.name):
                _delete_temporary(Path(entry.path), result)
            elif (match := _FILE.fullmatch(entry.name)) and match[1][:2] == directory.name:
                if _old(entry.stat(follow_symlinks=False)):
                    batch.append(f"{directory.name}/{entry.name}")
                if len(batch) >= size:
                    _delete_unnamed(factory, base, batch, result)
                    batch = []
            else:
                result.unknown_left += 1
    _delete_unnamed(factory, base, batch, result)


def _delete_unnamed(factory: sessionmaker[Session], base: Path, batch: list[str],
                    result: SweepResult) -> None:
    if not batch:
        return
    with factory() as session:
        named = _named(session, set(batch))
    for relative in batch:
        if relative not in named:
            _delete_file(base, relative, result, orphan=True)


def _delete_temporary(path: Path, result: SweepResult) -> None:
    try:
        if _old(path.stat()):
            path.unlink()
            result.temporaries_deleted += 1
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("materials sweep could not delete %s: %s", path, exc)
        result.failures += 1
