"""The in-process writer queue of SQLite (hpf.kit.sqlite_writer): threads writing at once all
commit, in turn; a transaction that fails or rolls back lets the next writer in; reads do not
queue behind a writer."""

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from hpf.kit import db
from hpf.kit.sqlite_writer import WriterConnection, lock_for


@pytest.fixture
def url(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'w.sqlite3'}"
    with db.transaction(url) as s:
        s.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)"))
    yield url
    db.dispose_all()


def test_concurrent_writers_all_commit_in_turn(url: str) -> None:
    inside, overlaps, errors = [0], [0], []
    guard = threading.Lock()

    def writer(n: int) -> None:
        try:
            with db.transaction(url) as s:
                # The session begins (and queues) at its first statement.
                s.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": n})
                with guard:
                    inside[0] += 1
                    overlaps[0] = max(overlaps[0], inside[0])
                time.sleep(0.005)
                with guard:
                    inside[0] -= 1
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert overlaps[0] == 1  # one write transaction at a time
    with db.transaction(url) as s:
        assert s.execute(text("SELECT count(*) FROM t")).scalar() == 12


def test_failed_transaction_releases_the_queue(url: str) -> None:
    with pytest.raises(RuntimeError), db.transaction(url) as s:
        s.execute(text("INSERT INTO t (v) VALUES (1)"))
        raise RuntimeError("business refused")
    lock = lock_for(str(Path(url.split("///", 1)[1]).resolve()))
    assert lock.acquire(timeout=1)  # free again
    lock.release()
    with db.transaction(url) as s:
        s.execute(text("INSERT INTO t (v) VALUES (2)"))
        assert s.execute(text("SELECT count(*) FROM t")).scalar() == 1


def test_reads_do_not_queue_behind_a_writer(url: str) -> None:
    factory = db.session_factory(url)
    with db.transaction(url) as writer:
        writer.execute(text("INSERT INTO t (v) VALUES (1)"))
        done = []

        def read() -> None:
            with db.read_transaction(factory) as s:
                done.append(s.execute(text("SELECT count(*) FROM t")).scalar())

        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=5)
        assert done == [0]  # answered while the writer still held the lock
    assert isinstance(db.make_engine(url).raw_connection().dbapi_connection, WriterConnection)
