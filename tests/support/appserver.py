"""Real app processes for tests: uvicorn serving hpf.main:create_app on a loopback port.

    with app_servers(2, env={"HPF_DATABASE_URL": url, "HPF_REDIS_URL": redis}, logs=tmp) as (a, b):
        httpx.get(f"{a.url}/healthz")

Each process gets the test process's environment (so HPF_VAR_DIR and friends carry over), the
given overrides, this checkout's src/ on PYTHONPATH and the test process's HPF_SECRET_KEY (the
registered clients' secrets are encrypted under it). Processes are started together, waited
for on /healthz, and stopped (terminate, then kill) however the block ends.
"""

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from hpf.config import get_settings
from support.pg import free_port

SRC = Path(__file__).resolve().parents[2] / "src"
START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 10


@dataclass
class AppServer:
    port: int
    proc: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        """The tail of the process's stdout and stderr."""
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def server_env(overrides: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env["HPF_SECRET_KEY"] = get_settings().secret_key
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    env.update(overrides)
    return env


def _start(env: dict[str, str], log: Path) -> AppServer:
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "hpf.main:create_app",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    return AppServer(port, proc, log)


def _wait_healthy(server: AppServer, deadline: float) -> None:
    while True:
        if server.proc.poll() is not None:
            raise RuntimeError(f"app server exited ({server.proc.returncode}):\n"
                               f"{server.output()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"app server did not answer /healthz:\n{server.output()}")
        time.sleep(0.1)


@contextlib.contextmanager
def app_servers(count: int, env: dict[str, str], logs: Path) -> Iterator[list[AppServer]]:
    """`count` app processes sharing `env`, healthy on entry, stopped on exit."""
    full_env = server_env(env)
    servers: list[AppServer] = []
    try:
        for i in range(count):
            servers.append(_start(full_env, logs / f"app-{i}.log"))
        deadline = time.monotonic() + START_TIMEOUT_S
        for server in servers:
            _wait_healthy(server, deadline)
        yield servers
    finally:
        for server in servers:
            with contextlib.suppress(Exception):
                server.proc.terminate()
        for server in servers:
            server.stop()
