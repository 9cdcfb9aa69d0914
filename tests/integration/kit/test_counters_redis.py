"""RedisCounters against a real Redis: same semantics as in memory, shared by processes,
open when Redis is down for counting and closed for nonces."""

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from hpf.kit.counters import Hit, RedisCounters
from hpf.kit.errors import HpfError
from support.pg import free_port

SRC = Path(__file__).resolve().parents[3] / "src"


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def counters(redis_url: str, clock: FakeClock) -> Iterator[RedisCounters]:
    store = RedisCounters(redis_url, clock=clock)
    yield store
    store.close()


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def test_counts_within_a_window_and_restarts_in_the_next(counters: RedisCounters,
                                                         clock: FakeClock) -> None:
    clock.now = 600.0
    assert [counters.hit("ch:web", 60).count for _ in range(3)] == [1, 2, 3]
    assert counters.hit("ch:web", 60, amount=5).count == 8
    assert counters.hit("ch:app", 60).count == 1
    clock.now = 660.0
    assert counters.hit("ch:web", 60).count == 1


@pytest.mark.parametrize(("now", "retry_after_s"), [(600.0, 60), (630.2, 30), (659.999, 1)])
def test_retry_after_is_the_rest_of_the_window(counters: RedisCounters, clock: FakeClock,
                                               now: float, retry_after_s: int) -> None:
    clock.now = now
    assert counters.hit("k", 60) == Hit(count=1, retry_after_s=retry_after_s)


def test_total_over_several_windows_with_gaps(counters: RedisCounters, clock: FakeClock) -> None:
    for start, hits in ((0, 2), (20, 3), (40, 0), (60, 4)):
        clock.now = start + 1
        for _ in range(hits):
            counters.hit("k", 10, keep_windows=10)
    clock.now = 65.0
    assert counters.total("k", 10, windows=1) == 4
    assert counters.total("k", 10, windows=5) == 7
    assert counters.total("k", 10, windows=7) == 9
    assert counters.total("other", 10, windows=7) == 0


def test_a_window_counter_expires_after_keep_windows(counters: RedisCounters, clock: FakeClock,
                                                     raw: redis.Redis) -> None:
    clock.now = 600.0
    counters.hit("k", 60, keep_windows=3)
    assert 170 < raw.ttl("hpf:count:k:60:10") <= 180
    # Expiry is Redis's job, on Redis's clock: the TTL is set on the key itself.
    counters.hit("fast", 1, keep_windows=1)
    assert 0 < raw.pttl("hpf:count:fast:1:600") <= 1000


def test_once_first_repeat_and_after_ttl(counters: RedisCounters, raw: redis.Redis) -> None:
    assert counters.once("nonce:a", 1) is True
    assert counters.once("nonce:a", 1) is False
    assert counters.once("nonce:b", 600) is True
    assert 590 < raw.ttl("hpf:once:nonce:b") <= 600
    time.sleep(1.1)
    assert counters.once("nonce:a", 1) is True
    assert counters.once("nonce:b", 600) is False


def test_clear_deletes_only_our_keys(counters: RedisCounters, raw: redis.Redis) -> None:
    raw.set("someone-else", 1)
    raw.set("hpf:session:abc", 1)
    for i in range(2500):  # more than one SCAN batch
        counters.hit(f"k{i}", 60)
    counters.once("n", 60)
    counters.clear()
    assert counters.total("k1", 60, 1) == 0
    assert counters.once("n", 60) is True
    assert raw.get("someone-else") == b"1"
    assert raw.get("hpf:session:abc") == b"1"


def test_hits_from_many_threads_all_count(redis_url: str) -> None:
    counters = RedisCounters(redis_url)
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for _ in range(200):
            counters.hit("shared", 3600)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counters.total("shared", 3600, windows=2) == 1600
    counters.close()


HIT_N_TIMES = """
import sys
from hpf.kit.counters import RedisCounters
counters = RedisCounters(sys.argv[1])
for _ in range(int(sys.argv[2])):
    counters.hit("across-processes", 3600)
"""


def test_counters_are_shared_by_processes(redis_url: str) -> None:
    n = 300
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC),
                                                                      os.environ.get("PYTHONPATH")]))}
    procs = [subprocess.Popen([sys.executable, "-c", HIT_N_TIMES, redis_url, str(n)], env=env)
             for _ in range(2)]
    assert [proc.wait(timeout=60) for proc in procs] == [0, 0]
    counters = RedisCounters(redis_url)
    # The hour could turn between the two processes' hits: sum this window and the last.
    assert counters.total("across-processes", 3600, windows=2) == 2 * n
    counters.close()


def _assert_fails_open_and_closed(url: str) -> None:
    counters = RedisCounters(url)
    started = time.monotonic()
    assert counters.hit("k", 60) == Hit(count=0, retry_after_s=1)
    assert counters.total("k", 60, 2) == 0
    with pytest.raises(HpfError) as refused:
        counters.once("nonce", 60)
    # Three calls, each bounded by the half-second socket timeout.
    assert time.monotonic() - started < 3
    assert refused.value.status == 503
    assert refused.value.code == "COUNTERS_UNAVAILABLE"
    counters.close()


def test_a_closed_port_fails_open_for_counting_and_closed_for_nonces() -> None:
    _assert_fails_open_and_closed(f"redis://127.0.0.1:{free_port()}/0")


def test_a_server_that_never_answers_does_not_hang_requests() -> None:
    # Accepts connections (the kernel does, via the backlog) but never replies.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        _assert_fails_open_and_closed(f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
