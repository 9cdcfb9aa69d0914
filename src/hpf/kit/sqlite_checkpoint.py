"""Background WAL checkpoints for a server on SQLite.

By default SQLite folds the write-ahead log into the database file inside whichever commit
pushes the log past 1,000 pages: that request then waits for the copy and an fsync of the
database file, tens of milliseconds on an ordinary disk, every few seconds under load, which is
what set the p99 of bench.gateway_http. A server instead runs this thread: every second it asks
for a PASSIVE checkpoint (it waits for no reader or writer, and writers go on appending to the
log meanwhile), and the connections' own automatic checkpoint moves out to 10,000 pages, a
safety net the log never reaches while the thread runs. Command-line jobs keep SQLite's default.
"""

import logging
import sqlite3
import threading

from sqlalchemy import Engine

from hpf.kit import db

log = logging.getLogger(__name__)

INTERVAL_S = 1.0


class Checkpointer:
    """A daemon thread checkpointing one database file's WAL until stopped."""

    def __init__(self, path: str, interval_s: float = INTERVAL_S) -> None:
        self.path = path
        self.interval_s = interval_s
        self.runs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)

    def start(self) -> "Checkpointer":
        """Begin checkpointing in the background."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """End the thread (after its current checkpoint, if one is running); connections
        opened from now on checkpoint for themselves again."""
        self._stop.set()
        self._thread.join(timeout=10)
        db.defer_checkpoints(self.path, False)

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=0, isolation_level=None,
                               check_same_thread=False)
        try:
            while not self._stop.wait(self.interval_s):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.runs += 1
                except sqlite3.Error as exc:  # a busy moment: the next second tries again
                    log.warning("background checkpoint of %s failed: %s", self.path, exc)
        finally:
            conn.close()


def start(engine: Engine, interval_s: float = INTERVAL_S) -> Checkpointer | None:
    """Checkpoint an engine's SQLite file in the background (None for PostgreSQL or memory):
    its connections, opened afresh, leave checkpoints to the thread."""
    path = db.sqlite_file(engine)
    if path is None:
        return None
    db.defer_checkpoints(path)
    engine.dispose()  # connections opened before keep the 1,000-page automatic checkpoint
    return Checkpointer(path, interval_s).start()
