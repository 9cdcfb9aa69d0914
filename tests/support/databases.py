"""Migrated template databases, cloned per test."""

import itertools
import sqlite3
from pathlib import Path

from hpf.kit import db, migrate
from support import channels
from support.pg import PgServer

PG_TEMPLATE = "hpf_template"
_numbers = itertools.count(1)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def make_sqlite_template(directory: Path) -> Path:
    """Migrate a SQLite file to head once; tests get copies of it."""
    path = directory / "template.sqlite3"
    migrate.upgrade(sqlite_url(path))
    channels.install(sqlite_url(path))
    db.dispose_all()
    return path


def clone_sqlite(template: Path, dest: Path) -> str:
    """Copy the template with SQLite's backup API (consistent even with a WAL file around)."""
    src = sqlite3.connect(template)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return sqlite_url(dest)


def make_pg_template(server: PgServer) -> str:
    """Create and migrate the template database once per session; returns its name."""
    server.drop_database(PG_TEMPLATE)
    url = server.create_database(PG_TEMPLATE)
    migrate.upgrade(url)
    channels.install(url)
    # CREATE DATABASE ... TEMPLATE refuses while anyone is connected to the template.
    db.dispose_all()
    return PG_TEMPLATE


def clone_pg(server: PgServer) -> tuple[str, str]:
    """A fresh database copied from the template: (name, url)."""
    name = f"hpf_test_{next(_numbers)}"
    return name, server.create_database(name, template=PG_TEMPLATE)
