"""hpf backup / hpf restore: a backup restores into a scratch database and checks clean; a
damaged file, a damaged ledger or audit chain, or a restore over live data is refused."""

import json
import os
import subprocess
import sys
from datetime import date

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
