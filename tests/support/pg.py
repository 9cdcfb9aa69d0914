"""A throwaway PostgreSQL server for one test session, on loopback with trust auth.

Uses Debian's server binaries (/usr/lib/postgresql/<version>/bin). PostgreSQL refuses to run
as root, so when the tests run as root initdb and pg_ctl run as the `postgres` user
(runuser). Durability is switched off: the cluster lives for one session.
"""

import atexit
import contextlib
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

START_TIMEOUT_S = 60
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "64MB",
    "log_min_messages": "warning",
    "logging_collector": "off",
    "timezone": "'UTC'",
}


class PgUnavailable(RuntimeError):
    """No PostgreSQL server can be started here (binaries or the postgres user missing)."""


def find_bindir() -> Path | None:
    """The newest Debian PostgreSQL bin directory with initdb and pg_ctl, or one from PATH.

    HPF_TEST_PG_BINDIR overrides the search.
    """
    override = os.environ.get("HPF_TEST_PG_BINDIR")
    if override:
        bindir = Path(override)
        return bindir if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file() else None
    candidates: list[Path] = []

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", path.parent.name)) or (0,)

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).parent)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """One PostgreSQL cluster in a temporary directory; `start()`, then `stop()`."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root: Path | None = None
        self.port: int | None = None
        self._running = False
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError as exc:
                raise PgUnavailable("running as root and there is no 'postgres' user") from exc
            runuser = shutil.which("runuser")
            # su takes one shell command line instead of an argument vector.
            self._as_user = (
                [runuser, "-u", "postgres", "--"] if runuser else ["su", "postgres", "-c"]
            )

    @property
    def data(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    @property
    def log(self) -> Path:
        assert self.root is not None
        return self.root / "server.log"

    def _run(self, *args: str, timeout_s: float = 120) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self._as_user and self._as_user[0] == "su":
            cmd = [*self._as_user, shlex.join(cmd)]
        else:
            cmd = [*self._as_user, *cmd]
        return subprocess.run(
            cmd, cwd=self.root, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=timeout_s, check=False,
        )

    def _check(self, result: subprocess.CompletedProcess, what: str) -> None:
        if result.returncode != 0:
            raise PgUnavailable(
                f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
                f"\n{self.log_tail()}"
            )

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def start(self) -> "PgServer":
        self.root = Path(tempfile.mkdtemp(prefix="hpf-pg-"))
        if self._as_user:
            shutil.chown(self.root, "postgres", "postgres")
        atexit.register(self.stop)
        self._check(
            self._run(
                str(self.bindir / "initdb"), "-D", str(self.data), "--auth=trust",
                "-U", "postgres", "--encoding=UTF8", "--locale=C", "--no-sync",
                "--no-instructions",
            ),
            "initdb",
        )
        settings = dict(SETTINGS, unix_socket_directories=f"'{self.root}'")
        conf = "".join(f"{key} = {value}\n" for key, value in settings.items())
        # Written by us (root) into a file the server only reads: keep it world-readable.
        with (self.data / "postgresql.conf").open("a") as fh:
            fh.write("\n# hpf test session\n" + conf)
        last_error = ""
        for _attempt in range(3):  # another process may take the free port first
            self.port = free_port()
            result = self._run(
                str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                "-o", f"-p {self.port}", "-w", "-t", str(START_TIMEOUT_S), "start",
                timeout_s=START_TIMEOUT_S + 30,
            )
            if result.returncode == 0:
                self._running = True
                self._wait_ready()
                return self
            last_error = f"{result.stdout}\n{result.stderr}\n{self.log_tail()}"
        raise PgUnavailable(f"pg_ctl start failed:\n{last_error}")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with psycopg.connect(self.url("postgres"), connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise PgUnavailable(f"no connection: {exc}\n{self.log_tail()}") from exc
                time.sleep(0.1)

    def url(self, dbname: str) -> str:
        """A SQLAlchemy/psycopg URL for a database on this server."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def execute(self, sql: str) -> None:
        """Run one statement in autocommit on the maintenance database (CREATE/DROP DATABASE)."""
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self, name: str, template: str | None = None) -> str:
        suffix = f' TEMPLATE "{template}"' if template else ""
        self.execute(f'CREATE DATABASE "{name}"{suffix}')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        # FORCE ends connections a test left open, so one leak cannot fail the next test.
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.root is None:
            return
        if self._running:
            with contextlib.suppress(Exception):
                self._run(
                    str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                    "stop", timeout_s=60,
                )
            self._running = False
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None


def start_server() -> PgServer:
    """Start a server, or raise PgUnavailable saying why not."""
    bindir = find_bindir()
    if bindir is None:
        raise PgUnavailable(
            "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb); "
            "install them with: apt-get install postgresql"
        )
    server = PgServer(bindir)
    try:
        return server.start()
    except BaseException:
        server.stop()
        raise
