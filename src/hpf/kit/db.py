"""Engine and session setup for SQLite (WAL) and PostgreSQL, and the declarative base.

The request or job boundary owns the transaction (`transaction()`); services only flush.
On SQLite every transaction starts with BEGIN IMMEDIATE: SQLite has one writer, and taking the
write lock up front turns lock upgrades (which fail with "database is locked" mid-transaction)
into an orderly wait governed by busy_timeout.
"""

import contextlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import BigInteger, Engine, Integer, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from hpf.config import get_settings
from hpf.kit.sqlite_writer import WriterConnection, lock_for

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; BigInteger keys map to it there.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base carrying the constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


READ_ONLY_OPTION = "hpf_read_only"
POOL_RECYCLE_S = 1800
_engines: dict[str, Engine] = {}
_factories: dict[str, sessionmaker[Session]] = {}


# Files whose WAL a background thread checkpoints (hpf.kit.sqlite_checkpoint): their
# connections' own automatic checkpoint moves from SQLite's 1,000 pages to a safety net.
_deferred_checkpoints: set[str] = set()
AUTOCHECKPOINT_PAGES, DEFERRED_AUTOCHECKPOINT_PAGES = 1000, 10_000


def defer_checkpoints(path: str, deferred: bool = True) -> None:
    """Leave a file's checkpoints to a background thread (connections opened from now on)."""
    key = str(Path(path).resolve())
    if deferred:
        _deferred_checkpoints.add(key)
    else:
        _deferred_checkpoints.discard(key)


def sqlite_file(engine: Engine) -> str | None:
    """The database file of an SQLite engine on disk; None otherwise."""
    if engine.dialect.name != "sqlite":
        return None
    path = engine.url.database
    return None if not path or path == ":memory:" else path


def _sqlite_setup(engine: Engine, path: str) -> None:
    resolved = str(Path(path).resolve()) if path else ""
    write_lock = lock_for(resolved) if path else None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        if isinstance(dbapi_conn, WriterConnection):
            dbapi_conn.write_lock = write_lock
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA cache_size=-200000")
        cur.execute("PRAGMA temp_store=MEMORY")
        pages = (DEFERRED_AUTOCHECKPOINT_PAGES if resolved in _deferred_checkpoints
                 else AUTOCHECKPOINT_PAGES)
        cur.execute(f"PRAGMA wal_autocheckpoint={pages}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        # Writers take the write lock up front (no deadlock upgrading a read lock later);
        # read_transaction()s begin deferred and, under WAL, neither wait for nor block them.
        if conn.get_execution_options().get(READ_ONLY_OPTION):
            conn.exec_driver_sql("BEGIN")
            return
        dbapi_conn = conn.connection.dbapi_connection
        if isinstance(dbapi_conn, WriterConnection):
            dbapi_conn.begin_write()  # queues behind this process's other writers first
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str | None = None) -> Engine:
    """Create (once per URL) the engine for a database URL."""
    url = url or get_settings().database_url
    if url in _engines:
        return _engines[url]
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        on_disk = bool(path) and path != ":memory:" and url.count("/") >= 3
        if on_disk:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # A pool as large as the server's thread pool would use: a request can hold two
        # connections (a read and a write), and connections beyond the pool are opened and
        # closed per checkout, each paying the PRAGMAs and the WAL index mapping.
        pool = {"pool_size": 20, "max_overflow": 20} if on_disk else {}
        engine = create_engine(
            url, echo=get_settings().sql_echo, **pool,
            connect_args={"check_same_thread": False, "factory": WriterConnection},
        )
        _sqlite_setup(engine, path if on_disk else "")
    else:
        if url.startswith("postgresql://"):
            url_driver = "postgresql+psycopg://" + url[len("postgresql://") :]
        else:
            url_driver = url
        # No pre-ping: it costs a round trip on every checkout (a signed gateway call checks
        # out four connections; measured 0.32x -> 0.38x of the bare endpoint without it).
        # A connection that died meanwhile (a database restart) fails the one call that meets
        # it, which invalidates the whole pool; that call answers 503 (hpf.main) and the next
        # ones get fresh connections. Recycling keeps connections younger than the idle
        # timeouts of firewalls and proxies.
        engine = create_engine(
            url_driver, echo=get_settings().sql_echo, pool_size=10, max_overflow=20,
            pool_pre_ping=False, pool_recycle=POOL_RECYCLE_S,
        )
    _engines[url] = engine
    return engine


def session_factory(url: str | None = None) -> sessionmaker[Session]:
    """The session factory bound to the engine of a URL."""
    url = url or get_settings().database_url
    if url not in _factories:
        _factories[url] = sessionmaker(make_engine(url), expire_on_commit=False)
    return _factories[url]


@contextlib.contextmanager
def transaction(url: str | None = None) -> Iterator[Session]:
    """A session inside one transaction: commit on success, roll back on any error."""
    factory = session_factory(url)
    with factory() as session, session.begin():
        yield session


@contextlib.contextmanager
def read_transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose transaction only reads (on SQLite a deferred BEGIN: it neither waits for
    nor blocks the writers). Writing in it is a mistake: on SQLite it can fail with
    SQLITE_BUSY when a writer committed meanwhile."""
    with factory() as session:
        session.connection(execution_options={READ_ONLY_OPTION: True})
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        # Ends the read (a commit, unlike a rollback, leaves the loaded objects usable).
        session.commit()


def dispose_all() -> None:
    """Close every pooled connection (tests, forked workers)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
    _factories.clear()


def is_sqlite(session_or_engine: Session | Engine) -> bool:
    """True when the bound database is SQLite."""
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "sqlite"
