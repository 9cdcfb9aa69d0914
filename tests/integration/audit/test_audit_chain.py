"""The audit chain links every record to the one before; `verify` finds edits, gaps and cuts."""

import os
import subprocess
import sys
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hpf.audit import service as audit
from hpf.audit.domain import GENESIS
from hpf.audit.models import AuditRecord
from hpf.kit.db import transaction


def _events(url: str, n: int) -> None:
    for i in range(n):
        with transaction(url) as s:
            audit.record(s, "login", "success" if i % 2 else "failure", actor_kind="member",
                         actor_id=i, actor_name=f"530102********{i:04d}", channel="app",
                         ip="127.0.0.1", detail={"reason": "BAD_CREDENTIALS"} if i % 2 == 0
                         else None)


def _lift_guard(s, url: str) -> None:
    if url.startswith("sqlite"):
        for event in ("update", "delete"):
            s.execute(text(f"DROP TRIGGER trg_audit_record_no_{event}"))
    else:
        s.execute(text("ALTER TABLE audit_record DISABLE TRIGGER trg_audit_record_append_only"))


def test_records_link_into_one_verified_chain(db_url):
    _events(db_url, 5)
    with transaction(db_url) as s:
        rows = s.query(AuditRecord).order_by(AuditRecord.seq).all()
        assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
        assert rows[0].prev_hash == GENESIS
        assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
        report = audit.verify(s)
        assert report.ok and report.checked == 5, report.problems


@pytest.mark.parametrize("sql", ["UPDATE audit_record SET outcome = 'success' WHERE seq = 1",
                                 "DELETE FROM audit_record WHERE seq = 1"])
def test_the_database_refuses_to_change_a_record(db_url, sql):
    _events(db_url, 1)
    with pytest.raises(DBAPIError, match="append-only"), transaction(db_url) as s:
        s.execute(text(sql))


@pytest.mark.parametrize(("tamper", "problem"), [
    ("UPDATE audit_record SET outcome = 'success' WHERE seq = 3",
     "record 3: content does not match its hash"),
    ("DELETE FROM audit_record WHERE seq = 3", "records 3 to 3 are missing"),
    ("DELETE FROM audit_record WHERE seq = 5", "chain ends at record 4 but its head says 5"),
])
def test_verify_finds_an_edit_a_gap_and_a_cut(db_url, tamper, problem):
    _events(db_url, 5)
    with transaction(db_url) as s:
        _lift_guard(s, db_url)
        s.execute(text(tamper))
    with transaction(db_url) as s:
        report = audit.verify(s)
    assert not report.ok
    assert problem in report.problems


def test_concurrent_appends_never_fork_the_chain(pg_url):
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(15):
                with transaction(pg_url) as s:
                    audit.record(s, "service.call", "succeeded", actor_kind="member",
                                 actor_id=n, target="q.member_account", detail={"i": i})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    _events(pg_url, 1)  # the head exists before the race
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with transaction(pg_url) as s:
        report = audit.verify(s)
        assert report.ok and report.checked == 1 + 8 * 15, report.problems


def test_two_first_appends_on_an_empty_chain_both_land(pg_url):
    """Nobody has a head row to lock yet: both insert it unless there, then link in turn."""
    barrier, errors = threading.Barrier(2), []

    def worker(n: int) -> None:
        try:
            with transaction(pg_url) as s:
                barrier.wait()
                audit.record(s, "login", "success", actor_kind="member", actor_id=n)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with transaction(pg_url) as s:
        report = audit.verify(s)
        assert report.ok and report.checked == 2, report.problems


def test_the_command_exits_non_zero_on_a_broken_chain(sqlite_url):
    _events(sqlite_url, 3)

    def run() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "hpf.cli", "audit", "verify"], capture_output=True,
            text=True, timeout=120,
            env={**os.environ, "HPF_DATABASE_URL": sqlite_url, "COLUMNS": "200"})

    whole = run()
    assert whole.returncode == 0 and "audit chain verified" in whole.stdout, whole.stderr
    with transaction(sqlite_url) as s:
        _lift_guard(s, sqlite_url)
        s.execute(text("UPDATE audit_record SET actor_name = 'someone' WHERE seq = 2"))
    broken = run()
    assert broken.returncode == 1
    assert "record 2: content does not match its hash" in broken.stdout
