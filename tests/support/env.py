"""How the test run treats missing servers: skip locally, fail under CI."""

import os

import pytest


def in_ci() -> bool:
    """True under CI (CI=true): a missing PostgreSQL or Redis is then an error, not a skip."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def unavailable(reason: str) -> None:
    """Skip the requesting tests, or fail them under CI so nothing passes by being skipped."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: required)", pytrace=False)
    pytest.skip(reason)


def stop_servers_on_sigterm() -> None:
    """Turn SIGTERM (e.g. from `timeout`) into KeyboardInterrupt so the session fixtures stop
    the servers they started; pg_ctl daemonises the server, which would otherwise outlive us."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def _interrupt(signum, frame):  # noqa: ANN001
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _interrupt)
