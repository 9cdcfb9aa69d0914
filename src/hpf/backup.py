"""Backup, restore and the proof that a backup restores (数据备份与恢复验证).

A backup is one data file and a manifest beside it (`<name>.json`): the engine, the schema
revision, the file's SHA-256, the audit chain's head and the ledger's counts at the time.
SQLite is copied with its online backup API (consistent while the platform runs); PostgreSQL
with `pg_dump --format=custom`. Verifying restores the file into a scratch database, checks the
revision, runs `hpf ledger verify` and `hpf audit verify`, and compares the audit head and the
counts with the manifest: a backup is only as good as a restore that passed these.
"""

import glob
import hashlib
import json
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import make_url, text

from hpf.kit import db, migrate

PG_TIMEOUT_S = 3600


class BackupError(RuntimeError):
    """A backup or restore that cannot be made or trusted (message in Chinese)."""


@dataclass
class Verification:
    """What a restore into a scratch database showed."""

    problems: list[str] = field(default_factory=list)
    facts: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the restored copy passed every check."""
        return not self.problems


def _engine(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"不支持的数据库 {backend}")
    return backend


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("内存数据库无法备份")
    return Path(database)


def _pg_tool(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(
        f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise BackupError(f"找不到 {name}（Debian 软件包 postgresql-client）")
    return found


def _libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_copy(source_path: Path, target_path: Path) -> None:
    """Copy a SQLite database with its online backup API (consistent while it is in use)."""
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(target_path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def snapshot_facts(url: str) -> dict:
    """The audit head and the ledger's counts of a database, as a manifest records them."""
    with db.transaction(url) as session:
        head = session.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).first()
        return {
            "audit_head": {"seq": head[0], "hash": head[1]} if head else None,
            "vouchers": session.scalar(text("SELECT COUNT(*) FROM ledger_voucher")),
            "postings": session.scalar(text("SELECT COUNT(*) FROM ledger_posting")),
        }


def create(url: str, directory: Path) -> Path:
    """Back the database up into `directory`; returns the manifest's path."""
    engine = _engine(url)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    revision = migrate.current(url)
    facts = snapshot_facts(url)
    if engine == "sqlite":
        data = directory / f"hpf-{stamp}.sqlite3"
        _sqlite_copy(_sqlite_path(url), data)
    else:
        data = directory / f"hpf-{stamp}.dump"
        _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              f"--file={data}", _libpq_url(url)])
    manifest = {"engine": engine, "revision": revision, "file": data.name,
                "sha256": _sha256(data), "bytes": data.stat().st_size,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"), **facts}
    path = directory / f"hpf-{stamp}.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def read_manifest(path: Path) -> tuple[dict, Path]:
    """The manifest and its data file, after checking the file is whole."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        data = path.parent / manifest["file"]
    except (OSError, ValueError, KeyError) as exc:
        raise BackupError(f"备份清单无法读取：{exc}") from None
    if not data.exists():
        raise BackupError(f"备份文件不存在：{data}")
    if _sha256(data) != manifest.get("sha256"):
        raise BackupError("备份文件校验和不符，文件已损坏或被改动")
    return manifest, data


def restore(manifest_path: Path, url: str, *, force: bool = False) -> dict:
    """Restore a backup into a database; an existing database with data needs `force`."""
    manifest, data = read_manifest(manifest_path)
    engine = _engine(url)
    if engine != manifest["engine"]:
        raise BackupError(f"备份来自 {manifest['engine']}，不能恢复到 {engine}")
    if not force and _has_data(url):
        raise BackupError("目标数据库已有数据；确认覆盖请加 --force")
    db.dispose_all()
    if engine == "sqlite":
        path = _sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        _sqlite_copy(data, path)
    else:
        _run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
              "--no-privileges", "--exit-on-error", f"--dbname={_libpq_url(url)}", str(data)])
    return manifest


def verify(manifest_path: Path, scratch_url: str | None = None) -> Verification:
    """Restore into a scratch database and check it; the scratch database is removed after."""
    manifest, _ = read_manifest(manifest_path)
    report = Verification()
    with _scratch(manifest["engine"], scratch_url) as url:
        restore(manifest_path, url, force=True)
        revision = migrate.current(url)
        report.facts["revision"] = revision
        if revision != manifest["revision"]:
            report.problems.append(f"恢复后的版本 {revision} 与备份清单 {manifest['revision']} 不符")
        from hpf.audit import service as audit
        from hpf.ledger.verify import verify as ledger_verify

        with db.transaction(url) as session:
            ledger = ledger_verify(session)
            chain = audit.verify(session)
        report.facts["ledger"] = ledger.checked
        report.facts["audit_records"] = chain.checked
        report.problems += [f"账务：{p}" for p in ledger.problems]
        report.problems += [f"审计：{p}" for p in chain.problems]
        facts = snapshot_facts(url)
        for key in ("audit_head", "vouchers", "postings"):
            if facts[key] != manifest.get(key):
                report.problems.append(f"{key} 与备份清单不符：{facts[key]} ≠ {manifest.get(key)}")
        db.dispose_all()
    return report


def _has_data(url: str) -> bool:
    if _engine(url) == "sqlite" and not _sqlite_path(url).exists():
        return False
    try:
        with db.transaction(url) as session:
            return bool(session.scalar(text("SELECT COUNT(*) FROM ledger_voucher")))
    except Exception:  # no tables yet: an empty database
        return False
    finally:
        db.dispose_all()


class _scratch:
    """A throwaway database of the backup's engine: a temporary SQLite file, or a new
    PostgreSQL database beside `scratch_url`'s (which must allow CREATE DATABASE)."""

    def __init__(self, engine: str, scratch_url: str | None) -> None:
        self.engine, self.base = engine, scratch_url
        self.dir: str | None = None
        self.name: str | None = None

    def __enter__(self) -> str:
        if self.engine == "sqlite":
            self.dir = tempfile.mkdtemp(prefix="hpf-verify-")
            return f"sqlite:///{self.dir}/restored.sqlite3"
        if not self.base:
            raise BackupError("验证 PostgreSQL 备份须给出可建库的连接（--scratch-url）")
        self.name = f"hpf_verify_{uuid.uuid4().hex[:12]}"
        self._admin(f'CREATE DATABASE "{self.name}"')
        return make_url(self.base).set(database=self.name).render_as_string(hide_password=False)

    def __exit__(self, *exc) -> None:
        db.dispose_all()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        if self.name:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}"')

    def _admin(self, sql: str) -> None:
        engine = db.make_engine(self.base).execution_options(isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(sql))
        finally:
            engine.dispose()


def _run(argv: list[str]) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=PG_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise BackupError(f"{Path(argv[0]).name} 超时") from None
    if done.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} 失败：{done.stderr.strip()[:500]}")
