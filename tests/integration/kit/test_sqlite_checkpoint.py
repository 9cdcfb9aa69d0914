"""The server's background WAL checkpoints on SQLite (hpf.kit.sqlite_checkpoint) and its GIL
switch interval, both set for the server's lifetime only."""

import os
import sys
import threading
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from hpf.kit import db, sqlite_checkpoint
from hpf.kit.migrate import upgrade
from hpf.main import SWITCH_INTERVAL_S, create_app


def _autocheckpoint(engine) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()


def _wait(predicate, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_the_thread_folds_the_log_into_the_file_and_requests_do_not(tmp_path: Path):
    path = tmp_path / "cp.sqlite3"
    url = f"sqlite:///{path}"
    engine = db.make_engine(url)
    try:
        assert _autocheckpoint(engine) == 1000  # SQLite's default until a server takes over
        checkpointer = sqlite_checkpoint.start(engine, interval_s=0.05)
        assert _autocheckpoint(engine) == 10_000  # fresh connections leave it to the thread
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (v TEXT)"))
            conn.execute(text("INSERT INTO t VALUES (:v)"), [{"v": "x" * 1000}] * 2000)
        size_before = os.path.getsize(path)
        # The ~2 MB written sit in the log until the thread copies them into the file.
        assert _wait(lambda: os.path.getsize(path) > size_before + 1_000_000)
        assert _wait(lambda: checkpointer.runs > 0)
        checkpointer.stop()
        engine.dispose()
        assert _autocheckpoint(engine) == 1000  # stopped: connections checkpoint again
    finally:
        db.dispose_all()


def test_a_server_on_sqlite_runs_one_and_stops_it(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    upgrade(url)
    engine = db.make_engine(url)
    before = sys.getswitchinterval()
    try:
        with TestClient(create_app(url)) as client:
            assert client.get("/healthz").status_code == 200
            assert _autocheckpoint(engine) == 10_000
            assert "sqlite-checkpoint" in {t.name for t in threading.enumerate()}
            assert sys.getswitchinterval() == SWITCH_INTERVAL_S  # set by the same lifespan
        assert "sqlite-checkpoint" not in {t.name for t in threading.enumerate()}
        assert sys.getswitchinterval() == before
        engine.dispose()
        assert _autocheckpoint(engine) == 1000
    finally:
        db.dispose_all()
