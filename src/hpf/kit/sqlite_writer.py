"""One writer at a time per SQLite file inside a process, queued on a Python lock.

SQLite lets one connection write at a time. A second BEGIN IMMEDIATE waits in SQLite's busy
handler, which sleeps in growing steps (1, 2, 5, 10 ... 100 ms) and retries: a thread can sleep
tens of milliseconds after the lock came free, and under load the waits add up to most of a
request's time. Threads of one process therefore queue on a lock of their own first and take
SQLite's write lock when it is free; the busy handler then only arbitrates between processes
(the web server and a CLI job). The lock is released when the transaction ends, on commit,
rollback or close.
"""

from __future__ import annotations

import sqlite3
import threading

# Same patience as PRAGMA busy_timeout: a writer that cannot get the lock fails as SQLite would.
WAIT_S = 30.0

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def lock_for(path: str) -> threading.Lock:
    """The process-wide writer lock of one database file."""
    with _locks_guard:
        return _locks.setdefault(path, threading.Lock())


class WriterConnection(sqlite3.Connection):
    """A sqlite3 connection that holds its file's writer lock from `begin_write` to the end."""

    write_lock: threading.Lock | None = None  # set per connection by hpf.kit.db
    _holding = False

    def begin_write(self) -> None:
        """Queue for the process's writer lock, then BEGIN IMMEDIATE."""
        lock = self.write_lock
        if lock is not None and not self._holding:
            if not lock.acquire(timeout=WAIT_S):
                raise sqlite3.OperationalError("database is locked")
            self._holding = True
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        if self._holding:
            self._holding = False
            self.write_lock.release()  # type: ignore[union-attr]

    def commit(self) -> None:
        """Commit, then let the next writer of this process in."""
        try:
            super().commit()
        finally:
            if self.in_transaction is False:
                self._release()

    def rollback(self) -> None:
        """Roll back, then let the next writer of this process in."""
        try:
            super().rollback()
        finally:
            self._release()

    def close(self) -> None:
        """Close (SQLite rolls back an open transaction) and release the lock."""
        try:
            super().close()
        finally:
            self._release()
