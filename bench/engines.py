"""Where a benchmark's databases live: a SQLite file in a temporary directory, or a database
on a throwaway PostgreSQL server started on loopback (the tests' machinery, durable settings).

Each engine builds one base database and hands out copies of it, so the job and its baseline
start from byte-identical data: SQLite copies the file with the backup API, PostgreSQL uses
CREATE DATABASE ... TEMPLATE (STRATEGY FILE_COPY), which also copies the planner statistics.
"""

import contextlib
import itertools
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from hpf.kit import db

REPO_ROOT = Path(__file__).resolve().parents[1]

# Production-like PostgreSQL: the tests switch durability off, a benchmark must not, or it
# would flatter the job (one commit per employer) against the baseline (one commit in all).
PG_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "50",
    "shared_buffers": "256MB",
    "max_wal_size": "4GB",
    "log_min_messages": "warning",
    "logging_collector": "off",
    "timezone": "'UTC'",
}


class SqliteEngine:
    """SQLite files under one temporary directory."""

    name = "sqlite"

    def __init__(self, workdir: Path | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="hpf-bench-sqlite-", dir=workdir))
        self._numbers = itertools.count(1)
        self.base_url: str | None = None

    def create_base(self) -> str:
        self.base_url = f"sqlite:///{self.root / 'base.sqlite3'}"
        return self.base_url

    def seal_base(self) -> None:
        """Close every connection and fold the WAL into the file before copies are taken."""
        db.dispose_all()
        conn = sqlite3.connect(self._path(self.base_url))
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()

    def settle(self, url: str) -> None:
        """Fold the WAL into the database file, so no checkpoint falls due while timing."""
        conn = sqlite3.connect(self._path(url))
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()

    def clone(self, label: str) -> str:
        dest = self.root / f"{label}-{next(self._numbers)}.sqlite3"
        src = sqlite3.connect(self._path(self.base_url))
        dst = sqlite3.connect(dest)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        return f"sqlite:///{dest}"

    def drop(self, url: str) -> None:
        path = Path(self._path(url))
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{path}{suffix}").unlink()

    def size_mb(self, url: str) -> float:
        return Path(self._path(url)).stat().st_size / 2**20

    def describe(self) -> str:
        return f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL, hpf.kit.db pragmas)"

    def close(self) -> None:
        db.dispose_all()
        shutil.rmtree(self.root, ignore_errors=True)

    @staticmethod
    def _path(url: str | None) -> str:
        assert url is not None
        return url.split("///", 1)[1]


class PgEngine:
    """Databases on one PostgreSQL server started for the benchmark run."""

    name = "pg"

    def __init__(self) -> None:
        if str(REPO_ROOT / "tests") not in sys.path:
            sys.path.insert(0, str(REPO_ROOT / "tests"))
        from support import pg  # the tests' throwaway-server machinery

        self._pg = pg
        saved = dict(pg.SETTINGS)
        pg.SETTINGS.clear()
        pg.SETTINGS.update(PG_SETTINGS)
        try:
            self.server = pg.start_server()
        finally:
            pg.SETTINGS.clear()
            pg.SETTINGS.update(saved)
        self._numbers = itertools.count(1)
        self.base_name = "bench_base"
        self.version = self._scalar("SHOW server_version")

    def _scalar(self, sql: str):
        import psycopg

        with psycopg.connect(self.server.url("postgres"), autocommit=True) as conn:
            return conn.execute(sql).fetchone()[0]

    def create_base(self) -> str:
        self.server.drop_database(self.base_name)
        return self.server.create_database(self.base_name)

    def seal_base(self) -> None:
        # CREATE DATABASE ... TEMPLATE refuses while anyone is connected to the template.
        db.dispose_all()

    def settle(self, url: str) -> None:
        """Statistics for the freshly built tables and every dirty page written now, so
        neither an autovacuum's first ANALYZE (and the plans it changes) nor a checkpoint
        falls inside the timed part."""
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        self.server.execute("CHECKPOINT")

    def clone(self, label: str) -> str:
        name = f"bench_{label}_{next(self._numbers)}"
        self.server.drop_database(name)
        self.server.execute(
            f'CREATE DATABASE "{name}" TEMPLATE "{self.base_name}" STRATEGY FILE_COPY')
        return self.server.url(name)

    def drop(self, url: str) -> None:
        db.dispose_all()
        self.server.drop_database(url.rsplit("/", 1)[1])

    def size_mb(self, url: str) -> float:
        name = url.rsplit("/", 1)[1]
        return int(self._scalar(f"SELECT pg_database_size('{name}')")) / 2**20

    def describe(self) -> str:
        conf = ", ".join(f"{k}={v}" for k, v in PG_SETTINGS.items()
                         if k in ("shared_buffers", "max_wal_size"))
        return f"PostgreSQL {self.version} (fsync/synchronous_commit on, {conf})"

    def close(self) -> None:
        db.dispose_all()
        self.server.stop()


def open_engine(name: str, workdir: Path | None = None) -> SqliteEngine | PgEngine:
    """Start (or prepare) the named engine."""
    if name == "sqlite":
        return SqliteEngine(workdir)
    if name == "pg":
        return PgEngine()
    raise ValueError(f"unknown engine {name}")
