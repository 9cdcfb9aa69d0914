"""A throwaway Redis server for one test session, on loopback, without persistence."""

import atexit
import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from support.pg import free_port

START_TIMEOUT_S = 20


class RedisUnavailable(RuntimeError):
    """No redis-server binary, or it would not start."""


def command(port: int, *args: str) -> bytes:
    """Send one inline command to the server and return the first reply line."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall((" ".join(args) + "\r\n").encode())
        return s.makefile("rb").readline().strip()


class RedisServer:
    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port: int | None = None
        self.dir: Path | None = None
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.dir = Path(tempfile.mkdtemp(prefix="hpf-redis-"))
        atexit.register(self.stop)
        self.port = free_port()
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir), "--daemonize", "no",
             "--logfile", str(self.dir / "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                raise RedisUnavailable(f"redis-server exited:\n{self._log()}")
            with contextlib.suppress(OSError):
                if command(self.port, "PING") == b"+PONG":
                    return self
            if time.monotonic() > deadline:
                raise RedisUnavailable(f"redis-server did not answer:\n{self._log()}")
            time.sleep(0.05)

    def _log(self) -> str:
        try:
            return (self.dir / "redis.log").read_text(errors="replace")[-3000:]
        except (OSError, TypeError):
            return ""

    def flush(self) -> None:
        command(self.port, "FLUSHALL")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


def start_server() -> RedisServer:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisUnavailable(
            "redis-server not found; install it with: apt-get install redis-server"
        )
    server = RedisServer(binary)
    try:
        return server.start()
    except BaseException:
        server.stop()
        raise
