"""hpf backup / hpf restore: a backup restores into a scratch database and checks clean; a
damaged file, a damaged ledger or audit chain, or a restore over live data is refused."""

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from hpf import backup
from hpf.audit import service as audit
from hpf.catalog import params
from hpf.kit import clock, db
from hpf.kit.db import transaction
from hpf.ledger import domain
from hpf.ledger import service as ledger


def _some_books(url: str) -> None:
    with clock.frozen(date(2026, 3, 16)), transaction(url) as s:
        ledger.ensure_chart(s)
        params.seed_defaults(s)
        bank = ledger.system_account(s, domain.BANK_SETTLEMENT, "bank").id
        member = ledger.open_account(s, domain.MEMBER_DEPOSITS, "m1", owner_kind="member").id
        ledger.post(s, "remit", [domain.Line(member, domain.CREDIT, 123_456),
                                 domain.Line(bank, domain.DEBIT, 123_456)], summary="t")
        audit.record(s, "test.event", "succeeded", actor_kind="system", actor_name="test")


def test_backup_verifies_and_restores(db_url, tmp_path):
    _some_books(db_url)
    manifest_path = backup.create(db_url, tmp_path / "backups")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert manifest["engine"] == make_url(db_url).get_backend_name()
    assert (manifest["vouchers"], manifest["postings"]) == (1, 2)
    assert manifest["audit_head"]["seq"] == 1

    report = backup.verify(manifest_path, db_url)
    assert report.ok, report.problems
    assert report.facts["audit_records"] == 1 and report.facts["revision"] == manifest["revision"]

    # Over live data only with force; into an empty database without.
    with pytest.raises(backup.BackupError, match="已有数据"):
        backup.restore(manifest_path, db_url)
    with transaction(db_url) as s:  # a change after the backup, undone by the restore
        s.execute(text("UPDATE ledger_account SET name = 'changed'"))
    backup.restore(manifest_path, db_url, force=True)
    with transaction(db_url) as s:
        assert s.scalar(text("SELECT COUNT(*) FROM ledger_account WHERE name = 'changed'")) == 0
        assert audit.verify(s).ok
    db.dispose_all()


def test_a_damaged_file_is_refused_before_anything_is_restored(sqlite_url, tmp_path):
    _some_books(sqlite_url)
    manifest_path = backup.create(sqlite_url, tmp_path)
    data = tmp_path / json.loads(manifest_path.read_text())["file"]
    blob = bytearray(data.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    data.write_bytes(bytes(blob))
    target = f"sqlite:///{tmp_path}/target.sqlite3"
    for attempt in (lambda: backup.verify(manifest_path),
                    lambda: backup.restore(manifest_path, target)):
        with pytest.raises(backup.BackupError, match="校验和不符"):
            attempt()
    assert not (tmp_path / "target.sqlite3").exists()
    with pytest.raises(backup.BackupError, match="无法读取"):
        backup.verify(tmp_path / "nothing.json")


def test_verification_finds_damage_inside_a_whole_file(sqlite_url, tmp_path):
    """A backup taken of a database whose books or audit chain were edited fails its proof."""
    _some_books(sqlite_url)
    with transaction(sqlite_url) as s:
        s.execute(text("DROP TRIGGER trg_audit_record_no_update"))
        s.execute(text("UPDATE audit_record SET actor_name = 'someone else'"))
        s.execute(text("UPDATE ledger_account SET balance_fen = balance_fen + 1 "
                       "WHERE subject_code = :s"), {"s": domain.MEMBER_DEPOSITS})
    report = backup.verify(backup.create(sqlite_url, tmp_path))
    assert not report.ok
    assert any(p.startswith("账务：") for p in report.problems), report.problems
    assert any(p.startswith("审计：") for p in report.problems), report.problems


def test_a_backup_restores_only_into_its_own_engine(sqlite_url, tmp_path):
    _some_books(sqlite_url)
    manifest_path = backup.create(sqlite_url, tmp_path)
    with pytest.raises(backup.BackupError, match="不能恢复到 postgresql"):
        backup.restore(manifest_path, "postgresql://nobody@127.0.0.1:1/none")


def test_the_commands_exit_non_zero_on_a_bad_backup(sqlite_url, tmp_path):
    _some_books(sqlite_url)
    env = {**os.environ, "HPF_DATABASE_URL": sqlite_url}

    def hpf(*args):
        return subprocess.run([sys.executable, "-m", "hpf.cli", *args], env=env,
                              capture_output=True, text=True, timeout=120)

    made = hpf("backup", "--dir", str(tmp_path))
    assert made.returncode == 0 and "backup verified" in made.stdout, made.stdout + made.stderr
    manifest = next(tmp_path.glob("hpf-*.json"))
    assert hpf("backup", "verify", str(manifest)).returncode == 0
    refused = hpf("restore", str(manifest))
    assert refused.returncode == 1 and "已有数据" in refused.stdout
    data = tmp_path / json.loads(manifest.read_text())["file"]
    data.write_bytes(data.read_bytes()[:-1])
    assert hpf("backup", "verify", str(manifest)).returncode == 1


# --- the files that belong to the data: materials and bank files ----------------------------

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def file_dirs(tmp_path, monkeypatch):
    """Each test its own materials and bank-file directories (the session's var/ is shared)."""
    from hpf.config import get_settings

    roots = {"materials": tmp_path / "live" / "materials",
             "bank-files": tmp_path / "live" / "bank-files"}
    monkeypatch.setenv("HPF_MATERIALS_DIR", str(roots["materials"]))
    monkeypatch.setenv("HPF_BANK_FILES_DIR", str(roots["bank-files"]))
    get_settings.cache_clear()
    yield roots
    monkeypatch.undo()
    get_settings.cache_clear()


def _material(url: str, owner_id: int, body: bytes, command_id: int | None = None) -> tuple:
    from hpf.materials import service as materials

    with transaction(url) as s:
        m = materials.store(s, "member", owner_id, 7, "hall", "invoice", "发票.pdf", PDF + body)
        m.used_by_command_id = command_id
        return m.id, m.stored_path, m.sha256


def _bank_files(root) -> dict[str, bytes]:
    files = {"ICBC/WD20260316ICBC0001.req": b"H|WD20260316ICBC0001|ICBC\nD|1|...\n",
             "ICBC/WD20260316ICBC0001.stmt": b"H|WD20260316ICBC0001|ICBC|2026-03-16\n"}
    for relative, content in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(content)
    return files


def test_materials_and_bank_files_round_trip(db_url, tmp_path, file_dirs):
    from hpf.materials import storage

    _some_books(db_url)
    used = _material(db_url, 1, b"used", command_id=9001)
    unused = _material(db_url, 2, b"unused")
    bank = _bank_files(file_dirs["bank-files"])
    # A write in progress, a link and a pipe are no part of the data: never archived.
    (file_dirs["materials"] / used[1]).with_name(".x.bin.y.tmp").write_bytes(b"half")
    (file_dirs["bank-files"] / "ICBC" / "elsewhere.stmt").symlink_to(tmp_path / "outside")
    os.mkfifo(file_dirs["bank-files"] / "ICBC" / "pipe.req")

    manifest_path = backup.create(db_url, tmp_path / "backups")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    files = manifest["files"]
    assert files["trees"] == {"materials": 2, "bank-files": 2} and files["count"] == 4
    archive = manifest_path.parent / files["file"]
    assert files["sha256"] == backup._sha256(archive) and files["bytes"] == archive.stat().st_size

    report = backup.verify(manifest_path, db_url)
    assert report.ok, report.problems
    assert report.facts["files"] == {"materials": 2, "bank-files": 2}
    assert report.facts["materials_checked"] == 2
    # Verifying restored into scratch places: the live directories are as they were.
    assert sorted(p.name for p in file_dirs["materials"].parent.iterdir()) == \
        ["bank-files", "materials"]

    # After the backup a material file is lost and a new statement arrives; the restore puts
    # the backed-up files back and keeps the newer directory aside, whole.
    (file_dirs["materials"] / unused[1]).unlink()
    (file_dirs["bank-files"] / "ICBC" / "later.stmt").write_bytes(b"later")
    with pytest.raises(backup.BackupError, match="已有数据"):
        backup.restore(manifest_path, db_url)
    info = backup.restore(manifest_path, db_url, force=True)
    for tree, count in (("materials", 2), ("bank-files", 2)):
        done = info["files_restored"][tree]
        assert done["path"] == str(file_dirs[tree]) and done["count"] == count
    for material in (used, unused):
        assert storage.read(material[1], material[2]) == PDF + (b"used" if material is used
                                                                else b"unused")
    for relative, content in bank.items():
        assert (file_dirs["bank-files"] / relative).read_bytes() == content
    assert not (file_dirs["bank-files"] / "ICBC" / "later.stmt").exists()
    aside = Path(info["files_restored"]["bank-files"]["moved_aside"])
    assert (aside / "ICBC" / "later.stmt").read_bytes() == b"later"
    assert not list(file_dirs["materials"].rglob("*.tmp"))
    db.dispose_all()


def test_verify_names_missing_and_damaged_material_files(db_url, tmp_path, file_dirs):
    _some_books(db_url)
    _material(db_url, 1, b"whole")  # opens: not named
    lost = _material(db_url, 2, b"lost")
    spoilt = _material(db_url, 3, b"spoilt", command_id=9001)
    (file_dirs["materials"] / lost[1]).unlink()
    path = file_dirs["materials"] / spoilt[1]
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 0x01
    path.write_bytes(bytes(blob))

    report = backup.verify(backup.create(db_url, tmp_path / "backups"), db_url)
    assert report.facts["materials_checked"] == 3
    assert report.facts["files"] == {"materials": 2, "bank-files": 0}
    assert report.problems == [f"材料文件缺失 1 份：{lost[0]}（{lost[1]}）",
                               f"材料文件损坏或无法用当前密钥解密 1 份：{spoilt[0]}（{spoilt[1]}）"]
    db.dispose_all()


def test_restore_refuses_a_directory_with_files_without_force(sqlite_url, tmp_path, file_dirs):
    _some_books(sqlite_url)
    _material(sqlite_url, 1, b"one")
    manifest_path = backup.create(sqlite_url, tmp_path / "backups")
    empty_db = f"sqlite:///{tmp_path}/empty.sqlite3"
    with pytest.raises(backup.BackupError, match="目标目录已有文件") as refused:
        backup.restore(manifest_path, empty_db)
    assert str(file_dirs["materials"]) in str(refused.value)
    assert not (tmp_path / "empty.sqlite3").exists()  # nothing restored
    # Empty (or absent) directories need no force.
    elsewhere = {"materials": tmp_path / "new" / "materials",
                 "bank-files": tmp_path / "new" / "bank-files"}
    elsewhere["materials"].mkdir(parents=True)
    info = backup.restore(manifest_path, empty_db, roots=elsewhere)
    assert info["files_restored"]["materials"] == {
        "path": str(elsewhere["materials"]), "count": 1, "moved_aside": None}
    assert elsewhere["bank-files"].is_dir() and not any(elsewhere["bank-files"].iterdir())
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["bank-files", "materials"]
    db.dispose_all()


def test_a_damaged_or_missing_archive_is_refused(sqlite_url, tmp_path):
    _some_books(sqlite_url)
    manifest_path = backup.create(sqlite_url, tmp_path)
    archive = tmp_path / json.loads(manifest_path.read_text())["files"]["file"]
    archive.write_bytes(archive.read_bytes()[:-1])
    for attempt in (lambda: backup.verify(manifest_path),
                    lambda: backup.restore(manifest_path, sqlite_url, force=True)):
        with pytest.raises(backup.BackupError, match="文件归档校验和不符"):
            attempt()
    archive.unlink()
    with pytest.raises(backup.BackupError, match="文件归档不存在"):
        backup.verify(manifest_path)


def test_an_archive_reaching_outside_its_directories_is_refused(sqlite_url, tmp_path,
                                                                 file_dirs):
    import io
    import tarfile

    _some_books(sqlite_url)
    manifest_path = backup.create(sqlite_url, tmp_path / "backups")
    manifest = json.loads(manifest_path.read_text())
    archive = manifest_path.parent / manifest["files"]["file"]
    target = f"sqlite:///{tmp_path}/target.sqlite3"
    for name, expected in (("elsewhere/x.bin", "不应有的条目"),
                           ("materials/../../escaped.bin", "无法解开")):
        with tarfile.open(archive, "w") as tar:
            info = tarfile.TarInfo(name)
            info.size = 3
            tar.addfile(info, io.BytesIO(b"bad"))
        manifest["files"]["sha256"] = backup._sha256(archive)
        manifest_path.write_text(json.dumps(manifest))
        with pytest.raises(backup.BackupError, match=expected):
            backup.restore(manifest_path, target)
        assert not (tmp_path / "target.sqlite3").exists()
        assert not list(tmp_path.rglob("escaped.bin"))
        assert not [p for p in (tmp_path / "live").iterdir() if ".restore-" in p.name]


def test_a_backup_from_before_archives_still_verifies_and_restores(sqlite_url, tmp_path,
                                                                   file_dirs):
    _some_books(sqlite_url)
    _material(sqlite_url, 1, b"one")
    manifest_path = backup.create(sqlite_url, tmp_path)
    manifest = json.loads(manifest_path.read_text())
    (tmp_path / manifest.pop("files")["file"]).unlink()
    manifest_path.write_text(json.dumps(manifest))

    report = backup.verify(manifest_path)
    assert report.ok, report.problems
    assert report.facts["files"] == "此备份不含材料与银行文件（早于文件归档的备份）"
    assert "materials_checked" not in report.facts
    before = sorted(p.relative_to(file_dirs["materials"]) for p in
                    file_dirs["materials"].rglob("*"))
    info = backup.restore(manifest_path, sqlite_url, force=True)
    assert info["files_restored"] is None
    assert sorted(p.relative_to(file_dirs["materials"]) for p in
                  file_dirs["materials"].rglob("*")) == before
    db.dispose_all()


def test_a_mount_point_is_refused_before_anything_is_restored(sqlite_url, tmp_path, file_dirs,
                                                              monkeypatch):
    _some_books(sqlite_url)
    manifest_path = backup.create(sqlite_url, tmp_path / "backups")
    target = f"sqlite:///{tmp_path}/target.sqlite3"
    mounted = file_dirs["bank-files"]
    monkeypatch.setattr(os.path, "ismount", lambda path: Path(path) == mounted)
    with pytest.raises(backup.BackupError, match="是挂载点") as refused:
        backup.restore(manifest_path, target, force=True)
    assert str(mounted) in str(refused.value)
    assert not (tmp_path / "target.sqlite3").exists()
