"""The materials sweep (hpf jobs run materials-sweep): expired unused materials and orphan
files go; used, recent and still-shared ones stay; a second run changes nothing."""

import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from hpf.audit.models import AuditRecord
from hpf.catalog import params
from hpf.catalog.models import ParamValue
from hpf.config import get_settings
from hpf.kit import clock
from hpf.kit.db import session_factory, transaction
from hpf.materials import service as materials
from hpf.materials import storage
from hpf.materials.jobs import ORPHAN_GRACE_S, run_materials_sweep
from hpf.materials.models import Material

from .conftest import PDF

DAY = date(2026, 4, 20)
# Retention 30 days: uploads before 2026-03-21 00:00 Beijing time (2026-03-20 16:00 UTC) go.
LAST_KEPT = datetime(2026, 3, 20, 16, 0, 0, tzinfo=UTC)
FIRST_GONE = datetime(2026, 3, 20, 15, 59, 59, tzinfo=UTC)
LONG_AGO = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
RECENT = datetime(2026, 4, 10, 2, 0, tzinfo=UTC)
OLD_FILE_S = time.time() - ORPHAN_GRACE_S - 3600  # a file time older than the grace period


@pytest.fixture
def root(tmp_path, monkeypatch):
    """This test's own materials directory (the session's var/ is shared)."""
    path = tmp_path / "materials"
    monkeypatch.setenv("HPF_MATERIALS_DIR", str(path))
    get_settings.cache_clear()
    yield path
    monkeypatch.undo()
    get_settings.cache_clear()


def _upload(url, owner_id, body, at, command_id=None, code="invoice"):
    """One material uploaded at `at`; its file aged like the upload (written then)."""
    with clock.frozen(at), transaction(url) as s:
        m = materials.store(s, "member", owner_id, 7, "hall", code, "a.pdf", PDF + body)
        m.used_by_command_id = command_id
        s.flush()
        found = (m.id, m.stored_path)
    os.utime(storage.root() / found[1], (OLD_FILE_S, OLD_FILE_S))
    return found


def _ids(url):
    with transaction(url) as s:
        return set(s.scalars(select(Material.id)))


def _sweep(url, day=DAY, **kwargs):
    with clock.frozen(day):
        return run_materials_sweep(session_factory(url), day, **kwargs).as_dict()


def _orphan(root, body, age_s=None):
    _, relative = storage.write(PDF + body)
    if age_s is not None:
        os.utime(root / relative, (time.time() - age_s,) * 2)
    return relative


def test_the_sweep_deletes_exactly_the_expired_unused_materials_and_orphans(db_url, root):
    expired = _upload(db_url, 1, b"expired", LONG_AGO)
    boundary_gone = _upload(db_url, 2, b"boundary gone", FIRST_GONE)
    boundary_kept = _upload(db_url, 3, b"boundary kept", LAST_KEPT)
    used = _upload(db_url, 4, b"used", LONG_AGO, command_id=9001)
    recent = _upload(db_url, 5, b"recent", RECENT)
    # One file, two rows: the expired row goes, the file stays while the recent row names it.
    shared_old = _upload(db_url, 6, b"shared", LONG_AGO)
    shared_new = _upload(db_url, 7, b"shared", RECENT)
    assert shared_old[1] == shared_new[1]
    old_orphan = _orphan(root, b"crashed upload", age_s=ORPHAN_GRACE_S + 60)
    new_orphan = _orphan(root, b"upload in progress")
    temporary = root / old_orphan[:2] / f".{'0' * 64}.bin.{'1' * 32}.tmp"
    temporary.write_bytes(b"half")
    os.utime(temporary, (OLD_FILE_S, OLD_FILE_S))
    stranger = root / "README.txt"
    stranger.write_text("not a material")
    os.utime(stranger, (OLD_FILE_S, OLD_FILE_S))

    result = _sweep(db_url, chunk_size=2)  # several chunks
    assert result == {
        "day": "2026-04-20", "retention_days": 30,
        "uploaded_before": "2026-03-20T16:00:00+00:00",
        "rows_deleted": 3, "files_deleted": 2, "files_shared_kept": 1, "files_recent_kept": 0,
        "orphans_deleted": 1, "temporaries_deleted": 1, "unknown_left": 1, "failures": 0}
    assert _ids(db_url) == {boundary_kept[0], used[0], recent[0], shared_new[0]}
    gone = [expired[1], boundary_gone[1], old_orphan]
    kept = [boundary_kept[1], used[1], recent[1], shared_new[1], new_orphan]
    assert [(root / r).exists() for r in gone] == [False] * 3
    assert [(root / r).exists() for r in kept] == [True] * 5
    assert not temporary.exists() and stranger.exists()
    with transaction(db_url) as s:
        # What stayed still opens.
        assert storage.read(shared_new[1], s.get(Material, shared_new[0]).sha256) \
            == PDF + b"shared"
        records = s.scalars(select(AuditRecord).where(AuditRecord.event == "material.sweep")).all()
    assert len(records) == 1 and records[0].outcome == "success"
    assert records[0].actor_kind == "system" and json.loads(records[0].detail) == result

    # Again: nothing more to do, nothing lost; the run is still recorded.
    again = _sweep(db_url)
    assert {k: v for k, v in again.items() if isinstance(v, int) and k != "retention_days"} == {
        "rows_deleted": 0, "files_deleted": 0, "files_shared_kept": 0, "files_recent_kept": 0,
        "orphans_deleted": 0, "temporaries_deleted": 0, "unknown_left": 1, "failures": 0}
    assert _ids(db_url) == {boundary_kept[0], used[0], recent[0], shared_new[0]}
    assert [(root / r).exists() for r in kept] == [True] * 5
    with transaction(db_url) as s:
        assert len(s.scalars(select(AuditRecord).where(
            AuditRecord.event == "material.sweep")).all()) == 2


def test_a_file_touched_by_an_upload_waits_for_a_later_run(db_url, root):
    expired = _upload(db_url, 1, b"expired", LONG_AGO)
    # The same content uploaded again moments ago (its row not committed yet): the write
    # refreshed the file's time, so the row goes and the file stays.
    storage.write(PDF + b"expired")
    assert time.time() - (root / expired[1]).stat().st_mtime < 60
    first = _sweep(db_url)
    assert (first["rows_deleted"], first["files_deleted"], first["files_recent_kept"]) == (1, 0, 1)
    assert (root / expired[1]).exists()
    # A day later the upload never committed: the file is an orphan and goes.
    os.utime(root / expired[1], (OLD_FILE_S, OLD_FILE_S))
    later = _sweep(db_url)
    assert (later["rows_deleted"], later["orphans_deleted"]) == (0, 1)
    assert not (root / expired[1]).exists()


def test_retention_is_a_dated_parameter(db_url, root):
    material = _upload(db_url, 1, b"kept longer", LONG_AGO)
    with transaction(db_url) as s:
        s.add(ParamValue(key="materials.unused_retention_days", effective_from=date(2026, 4, 1),
                         value_json="60", note="test"))
    params.clear_cache()
    result = _sweep(db_url)
    assert (result["retention_days"], result["rows_deleted"]) == (60, 0)
    assert result["uploaded_before"] == "2026-02-18T16:00:00+00:00"
    assert _ids(db_url) == {material[0]}
    # Before the change took effect the default (30 days) applied.
    assert _sweep(db_url, date(2026, 3, 31))["retention_days"] == 30


def test_the_retention_parameter_has_bounds():
    assert params.check_value("materials.unused_retention_days", 7) == 7
    for wrong in (6, 3651):
        with pytest.raises(ValueError, match="7 至 3650"):
            params.check_value("materials.unused_retention_days", wrong)


def test_the_command_runs_the_sweep(sqlite_url, root):
    expired = _upload(sqlite_url, 1, b"expired", LONG_AGO)
    done = subprocess.run([sys.executable, "-m", "hpf.cli", "jobs", "run", "materials-sweep",
                           "--date", DAY.isoformat()], env=dict(os.environ),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["rows_deleted"] == 1
    assert _ids(sqlite_url) == set() and not (root / expired[1]).exists()


def test_an_application_taking_a_material_during_the_sweep_keeps_it(db_url, root):
    material = _upload(db_url, 1, b"taken", LONG_AGO)
    taken, problems = threading.Event(), []

    def apply():
        try:
            with transaction(db_url) as s:
                materials.require(s, "member", 1, [material[0]], ["invoice"], 9001)
                taken.set()
                # Held open while the sweep looks: it sees the row unused, then must wait.
                time.sleep(2)
        except Exception as exc:  # reported to the test below
            problems.append(exc)
            taken.set()

    thread = threading.Thread(target=apply)
    thread.start()
    assert taken.wait(30)
    result = _sweep(db_url)
    thread.join(60)
    assert problems == []
    assert result["rows_deleted"] == 0
    assert _ids(db_url) == {material[0]} and (root / material[1]).exists()
    with transaction(db_url) as s:
        assert s.get(Material, material[0]).used_by_command_id == 9001
