"""Shared fixtures: migrated databases on SQLite and PostgreSQL, and a Redis server.

Database fixtures (each yields a URL string of a freshly migrated, empty database, and sets
HPF_DATABASE_URL to it for the test so code that reads the settings sees the same database):

- `db_url`: parametrised over SQLite and PostgreSQL (the PostgreSQL case is marked `pg`):
  a test using it runs twice, as `test_x[sqlite]` and `test_x[pg]`.
- `sqlite_url`: SQLite only (a copy of a template file migrated once per session).
- `pg_url`: PostgreSQL only (CREATE DATABASE ... TEMPLATE hpf_template, dropped afterwards).
- `redis_url`: a flushed Redis database on a session server.

Use `hpf.kit.db.transaction(url)` for a session. Engines are disposed after each test.
PostgreSQL and Redis are started on loopback by the test session itself; without their
binaries the tests needing them are skipped, or fail when CI=true.
"""

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The machinery lives in tests/support; make it importable under any pytest import mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from hpf.config import get_settings  # noqa: E402
from hpf.kit import db  # noqa: E402
from support import databases, pg, redis  # noqa: E402
from support.env import stop_servers_on_sigterm, unavailable  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _private_var_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Give the test session its own var/: code that writes there (the demo seed's
    demo-credentials.json) must not overwrite the developer's `make run` city."""
    previous = os.environ.get("HPF_VAR_DIR")
    path = tmp_path_factory.mktemp("var")
    os.environ["HPF_VAR_DIR"] = str(path)
    get_settings.cache_clear()
    yield path
    if previous is None:
        os.environ.pop("HPF_VAR_DIR", None)
    else:
        os.environ["HPF_VAR_DIR"] = previous
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_counters() -> None:
    """Flow counters, nonces, cached parameters and channel controls of one test must not leak
    into the next (same process)."""
    from hpf.catalog import params, snapshot
    from hpf.kit.counters import counters_for

    counters_for(None).clear()
    params.clear_cache()
    snapshot.clear()


def _use_database(url: str) -> Iterator[str]:
    """Point the settings at `url` for one test; dispose every engine afterwards."""
    previous = os.environ.get("HPF_DATABASE_URL")
    os.environ["HPF_DATABASE_URL"] = url
    get_settings.cache_clear()
    try:
        yield url
    finally:
        db.dispose_all()
        if previous is None:
            os.environ.pop("HPF_DATABASE_URL", None)
        else:
            os.environ["HPF_DATABASE_URL"] = previous
        get_settings.cache_clear()


# --- PostgreSQL ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.PgServer]:
    """The session's PostgreSQL server (started on first use, stopped at the end)."""
    stop_servers_on_sigterm()
    try:
        server = pg.start_server()
    except pg.PgUnavailable as exc:
        unavailable(f"PostgreSQL unavailable: {exc}")
    try:
        yield server
    finally:
        db.dispose_all()
        server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server: pg.PgServer) -> str:
    """Name of the template database migrated to head once per session."""
    return databases.make_pg_template(pg_server)


@pytest.fixture
def pg_url(pg_server: pg.PgServer, pg_template: str) -> Iterator[str]:
    """URL of a fresh, migrated, empty PostgreSQL database for this test."""
    name, url = databases.clone_pg(pg_server)
    try:
        yield from _use_database(url)
    finally:
        pg_server.drop_database(name)


# --- SQLite ----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session."""
    return databases.make_sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, migrated, empty SQLite database (a copy of the template) for this test."""
    url = databases.clone_sqlite(sqlite_template, tmp_path / "hpf.sqlite3")
    yield from _use_database(url)


# --- both engines ----------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def db_url(request: pytest.FixtureRequest) -> str:
    """URL of a fresh, migrated, empty database; the test runs once per engine."""
    # Resolved lazily so a SQLite-only run never starts PostgreSQL.
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (not migrated) on each engine, for migration tests."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    server = request.getfixturevalue("pg_server")
    name = f"em_{tmp_path.name[-20:].lower().replace('-', '_')}"
    url = server.create_database(name)
    try:
        yield url
    finally:
        db.dispose_all()
        server.drop_database(name)


# --- Redis -----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def redis_server() -> Iterator[redis.RedisServer]:
    stop_servers_on_sigterm()
    try:
        server = redis.start_server()
    except redis.RedisUnavailable as exc:
        unavailable(f"Redis unavailable: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: redis.RedisServer) -> str:
    """URL of the session Redis server, emptied (FLUSHALL) before this test."""
    redis_server.flush()
    return redis_server.url
