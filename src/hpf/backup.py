"""Backup, restore and the proof that a backup restores (数据备份与恢复验证).

A backup is one data file, one archive of files and a manifest beside them (`<name>.json`):
the engine, the schema revision, each file's SHA-256, the audit chain's head and the ledger's
counts at the time, and the archive's file counts. SQLite is copied with its online backup API
(consistent while the platform runs); PostgreSQL with `pg_dump --format=custom`. The archive
(`<name>-files.tar`) holds the two directories of files that belong to the data: uploaded
materials (settings.materials_dir) and the bank files of payouts and statements
(settings.bank_files_dir). Verifying restores both into scratch places, checks the revision,
runs `hpf ledger verify` and `hpf audit verify`, compares the audit head and the counts with
the manifest, and opens every material a row names: a backup is only as good as a restore
that passed these. A manifest written before archives existed still verifies and restores; it
says the files were not part of it.
"""

import glob
import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import tarfile
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import make_url, text

from hpf.config import get_settings
from hpf.kit import db, migrate

PG_TIMEOUT_S = 3600
# The directories of files archived with the database, by their name inside the archive.
TREES = ("materials", "bank-files")
# Missing or damaged material files named one by one in a verification; the rest are counted.
MAX_NAMED = 20
# Material rows read per query while a verification opens their files.
CHECK_CHUNK = 1000


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


def file_roots() -> dict[str, Path]:
    """Where the settings keep the files that belong to the data, by archive name."""
    from hpf.materials import storage

    settings = get_settings()
    # The default repeats hpf.exchange.bank_exchange.bank_file_exchange's.
    return {"materials": storage.root(),
            "bank-files": Path(settings.bank_files_dir or settings.var_dir / "bank-files")}


def create(url: str, directory: Path, *, roots: dict[str, Path] | None = None) -> Path:
    """Back the database and its files up into `directory`; returns the manifest's path."""
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
    # After the database: an upload writes its file before its row, so every row in the copy
    # names a file already on disk (unless a materials sweep ran meanwhile; verify would say).
    archive = directory / f"hpf-{stamp}-files.tar"
    try:
        counts = _write_archive(roots or file_roots(), archive)
    except (OSError, tarfile.TarError) as exc:
        archive.unlink(missing_ok=True)
        raise BackupError(f"文件归档失败：{exc}") from None
    manifest = {"engine": engine, "revision": revision, "file": data.name,
                "sha256": _sha256(data), "bytes": data.stat().st_size,
                "files": {"file": archive.name, "sha256": _sha256(archive),
                          "bytes": archive.stat().st_size, "count": sum(counts.values()),
                          "trees": counts},
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
    archive = archive_of(path, manifest)
    if archive is not None:
        if not archive.exists():
            raise BackupError(f"文件归档不存在：{archive}")
        if _sha256(archive) != manifest["files"].get("sha256"):
            raise BackupError("文件归档校验和不符，归档已损坏或被改动")
    return manifest, data


def archive_of(manifest_path: Path, manifest: dict) -> Path | None:
    """The archive of files a manifest names; None for a backup made before archives."""
    files = manifest.get("files")
    if not isinstance(files, dict) or not files.get("file"):
        return None
    return manifest_path.parent / Path(files["file"]).name


def _partial(name: str) -> bool:
    """A temporary file of a write in progress, or of one that crashed (never archived)."""
    return name.startswith(".") and name.endswith(".tmp")


def _write_archive(roots: dict[str, Path], target: Path) -> dict[str, int]:
    """Archive the regular files under each root (no links, no temporaries); counts by tree."""
    counts = dict.fromkeys(TREES, 0)
    with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as tar:
        for tree in TREES:
            root = roots[tree]
            if not root.is_dir():
                continue
            for directory, subdirectories, names in os.walk(root):
                subdirectories.sort()
                for name in sorted(names):
                    path = Path(directory) / name
                    try:
                        # Links, pipes and devices are no data of ours (and a pipe would block).
                        if _partial(name) or not stat.S_ISREG(path.lstat().st_mode):
                            continue
                        handle = path.open("rb")
                    except FileNotFoundError:  # deleted since the listing
                        continue
                    with handle:
                        # Described from the open file: a file replaced meanwhile is archived
                        # whole, old or new, never a header of one and the bytes of another.
                        info = tar.gettarinfo(
                            arcname=f"{tree}/{path.relative_to(root).as_posix()}",
                            fileobj=handle)
                        if not info.isreg():
                            continue
                        info.uid = info.gid = 0
                        info.uname = info.gname = ""
                        tar.addfile(info, handle)
                    counts[tree] += 1
    return counts


def _occupied(path: Path) -> bool:
    return path.exists() and (not path.is_dir() or any(path.iterdir()))


def _stage(archive: Path, roots: dict[str, Path]) -> tuple[dict[str, Path], dict[str, int]]:
    """Unpack the archive into a new directory beside each root (the same file system, so
    putting it in place is a rename); the staged directories and the file counts."""
    staged: dict[str, Path] = {}
    counts = dict.fromkeys(TREES, 0)
    try:
        for tree in TREES:
            roots[tree].parent.mkdir(parents=True, exist_ok=True)
            staged[tree] = Path(tempfile.mkdtemp(prefix=f".{roots[tree].name}.restore-",
                                                 dir=roots[tree].parent))
        if not hasattr(tarfile, "data_filter"):
            raise BackupError("解开文件归档需要 Python 3.11.4 或更高版本（tarfile 的 data 过滤器）")
        with tarfile.open(archive) as tar:
            for member in tar:
                tree, _, rest = member.name.partition("/")
                if tree not in staged or not rest or not (member.isreg() or member.isdir()):
                    raise BackupError(f"文件归档中有不应有的条目：{member.name[:200]}")
                member.name = rest
                # The "data" filter refuses absolute paths, ".." and links leaving the tree.
                tar.extract(member, staged[tree], filter="data")
                counts[tree] += member.isreg()
    except (tarfile.TarError, OSError) as exc:
        _remove(staged)
        raise BackupError(f"文件归档无法解开：{exc}") from None
    except BaseException:
        _remove(staged)
        raise
    return staged, counts


def _remove(staged: dict[str, Path]) -> None:
    for path in staged.values():
        shutil.rmtree(path, ignore_errors=True)


def _put_in_place(staged: dict[str, Path], roots: dict[str, Path]) -> dict[str, str | None]:
    """Rename each staged directory to its root; a root holding files is moved aside first
    (bank files are the evidence of payments: a restore never deletes them)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    aside: dict[str, str | None] = {}
    for tree in TREES:
        target, moved = roots[tree], None
        try:
            if _occupied(target):
                moved = target.with_name(f"{target.name}.before-restore-{stamp}")
                os.rename(target, moved)
            elif target.is_dir():
                target.rmdir()
            os.rename(staged.pop(tree), target)
        except OSError as exc:
            raise BackupError(f"数据库已恢复，但无法把恢复的文件放到 {target}：{exc}") from None
        aside[tree] = str(moved) if moved else None
    return aside


def restore(manifest_path: Path, url: str, *, force: bool = False,
            roots: dict[str, Path] | None = None) -> dict:
    """Restore a backup into a database and its files into `roots` (default the settings'
    directories); a database with data or a directory with files needs `force`, and then
    the directory is moved aside (named in the answer's `files_restored`), not deleted."""
    manifest, data = read_manifest(manifest_path)
    engine = _engine(url)
    if engine != manifest["engine"]:
        raise BackupError(f"备份来自 {manifest['engine']}，不能恢复到 {engine}")
    roots = roots or file_roots()
    archive = archive_of(manifest_path, manifest)
    if not force and _has_data(url):
        raise BackupError("目标数据库已有数据；确认覆盖请加 --force")
    if archive is not None:
        # A directory is replaced by a rename of a sibling: a mount point cannot be.
        mounted = [str(roots[tree]) for tree in TREES if os.path.ismount(roots[tree])]
        if mounted:
            raise BackupError(f"{'、'.join(mounted)} 是挂载点，无法整体替换；"
                              "请把设置指向其下的子目录")
        occupied = [str(roots[tree]) for tree in TREES if _occupied(roots[tree])]
        if occupied and not force:
            raise BackupError(f"目标目录已有文件：{'、'.join(occupied)}；确认覆盖请加 --force")
    # Unpacked before the database is touched: a bad archive leaves everything as it was.
    staged, counts = _stage(archive, roots) if archive is not None else ({}, {})
    try:
        db.dispose_all()
        if engine == "sqlite":
            path = _sqlite_path(url)
            path.parent.mkdir(parents=True, exist_ok=True)
            for suffix in ("-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            _sqlite_copy(data, path)
        else:
            _run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                  "--no-privileges", "--exit-on-error", f"--dbname={_libpq_url(url)}",
                  str(data)])
        aside = _put_in_place(staged, roots) if archive is not None else {}
    finally:
        _remove(staged)  # what is left was not put in place: something failed
    manifest["files_restored"] = None if archive is None else {
        tree: {"path": str(roots[tree]), "count": counts[tree], "moved_aside": aside[tree]}
        for tree in TREES}
    return manifest


def verify(manifest_path: Path, scratch_url: str | None = None) -> Verification:
    """Restore into a scratch database and check it; the scratch database is removed after."""
    manifest, _ = read_manifest(manifest_path)
    report = Verification()
    with _scratch(manifest["engine"], scratch_url) as url, \
            tempfile.TemporaryDirectory(prefix="hpf-verify-files-") as files:
        roots = {tree: Path(files) / tree for tree in TREES}
        restored = restore(manifest_path, url, force=True, roots=roots)
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
        _check_files(url, manifest, restored["files_restored"], roots, report)
        db.dispose_all()
    return report


def _check_files(url: str, manifest: dict, restored: dict | None, roots: dict[str, Path],
                 report: Verification) -> None:
    """Compare the archive's counts with the manifest and open every material a row names."""
    if restored is None:
        report.facts["files"] = "此备份不含材料与银行文件（早于文件归档的备份）"
        return
    report.facts["files"] = {tree: restored[tree]["count"] for tree in TREES}
    expected = manifest["files"].get("trees", {})
    for tree in TREES:
        if restored[tree]["count"] != expected.get(tree):
            report.problems.append(f"文件归档中 {tree} 有 {restored[tree]['count']} 个文件，"
                                   f"备份清单记为 {expected.get(tree)}")
    from hpf.kit.errors import UpstreamUnavailable
    from hpf.materials import storage

    missing: list[str] = []
    damaged: list[str] = []
    checked = after = 0
    with db.transaction(url) as session:
        while True:
            rows = session.execute(text(
                "SELECT id, stored_path, sha256 FROM mat_material WHERE id > :after "
                "ORDER BY id LIMIT :n"), {"after": after, "n": CHECK_CHUNK}).all()
            if not rows:
                break
            for material_id, relative, sha256 in rows:
                try:
                    storage.read(relative, sha256, base=roots["materials"])
                except UpstreamUnavailable:
                    gone = not (roots["materials"] / relative).is_file()
                    (missing if gone else damaged).append(f"{material_id}（{relative}）")
            checked += len(rows)
            after = rows[-1][0]
    report.facts["materials_checked"] = checked
    if missing:
        report.problems.append(f"材料文件缺失 {len(missing)} 份：" + _named(missing))
    if damaged:
        report.problems.append(f"材料文件损坏或无法用当前密钥解密 {len(damaged)} 份："
                               + _named(damaged))


def _named(items: list[str]) -> str:
    shown = "、".join(items[:MAX_NAMED])
    return shown + (f" 等（另有 {len(items) - MAX_NAMED} 份）" if len(items) > MAX_NAMED else "")


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
