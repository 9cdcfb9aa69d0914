"""MemoryCounters: fixed windows, totals, the once-store, the size cap and thread safety."""

import threading

import pytest

from hpf.kit.counters import Hit, MemoryCounters, RedisCounters, counters_for


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def counters(clock: FakeClock) -> MemoryCounters:
    return MemoryCounters(clock=clock)


def test_counts_within_a_window(counters: MemoryCounters) -> None:
    assert [counters.hit("ch:web", 60).count for _ in range(3)] == [1, 2, 3]
    assert counters.hit("ch:web", 60, amount=5).count == 8
    # Another key, or the same key with another window length, is another counter.
    assert counters.hit("ch:app", 60).count == 1
    assert counters.hit("ch:web", 1).count == 1


def test_a_new_window_starts_from_zero(counters: MemoryCounters, clock: FakeClock) -> None:
    clock.now = 600.0
    counters.hit("k", 60)
    counters.hit("k", 60)
    clock.now = 659.999
    assert counters.hit("k", 60).count == 3
    clock.now = 660.0
    assert counters.hit("k", 60).count == 1


@pytest.mark.parametrize(("now", "retry_after_s"), [
    (600.0, 60),     # the first instant of the window: the whole window is left
    (630.0, 30),
    (630.2, 30),     # rounded up: retrying after 29 s would land in the same window
    (659.5, 1),
    (659.999, 1),    # never 0
])
def test_retry_after_is_the_rest_of_the_window(counters: MemoryCounters, clock: FakeClock,
                                               now: float, retry_after_s: int) -> None:
    clock.now = now
    assert counters.hit("k", 60) == Hit(count=1, retry_after_s=retry_after_s)


def test_retry_after_of_one_second_windows(counters: MemoryCounters, clock: FakeClock) -> None:
    for now in (5.0, 5.5, 5.999):
        clock.now = now
        assert counters.hit("k", 1).retry_after_s == 1


def test_total_over_several_windows_with_gaps(counters: MemoryCounters, clock: FakeClock) -> None:
    for start, hits in ((0, 2), (20, 3), (40, 0), (60, 4)):  # 10 s windows 0, 2, 4, 6
        clock.now = start + 1
        for _ in range(hits):
            counters.hit("k", 10, keep_windows=10)
    clock.now = 65.0
    assert counters.total("k", 10, windows=1) == 4
    assert counters.total("k", 10, windows=3) == 4
    assert counters.total("k", 10, windows=5) == 7
    assert counters.total("k", 10, windows=7) == 9
    assert counters.total("k", 10, windows=100) == 9
    assert counters.total("other", 10, windows=7) == 0


def test_counters_expire_after_keep_windows(counters: MemoryCounters, clock: FakeClock) -> None:
    clock.now = 0.0
    counters.hit("k", 10, amount=3, keep_windows=2)
    clock.now = 15.0
    assert counters.total("k", 10, windows=2) == 3
    clock.now = 20.0  # 2 windows after the hit: gone, even though `windows` would reach it
    assert counters.total("k", 10, windows=3) == 0


def test_once_first_repeat_and_after_ttl(counters: MemoryCounters, clock: FakeClock) -> None:
    assert counters.once("nonce:a", 600) is True
    assert counters.once("nonce:a", 600) is False
    assert counters.once("nonce:b", 600) is True
    clock.now += 599
    assert counters.once("nonce:a", 600) is False
    clock.now += 1
    assert counters.once("nonce:a", 600) is True
    assert counters.once("nonce:a", 600) is False


def test_once_and_counters_do_not_share_keys(counters: MemoryCounters) -> None:
    counters.hit("k", 60)
    assert counters.once("k", 60) is True


def test_clear_forgets_everything(counters: MemoryCounters) -> None:
    counters.hit("k", 60)
    counters.once("n", 60)
    counters.clear()
    assert counters.total("k", 60, 1) == 0
    assert counters.once("n", 60) is True


def test_invalid_arguments_are_refused(counters: MemoryCounters) -> None:
    with pytest.raises(ValueError):
        counters.hit("k", 0)
    with pytest.raises(ValueError):
        counters.hit("k", 60, keep_windows=0)
    with pytest.raises(ValueError):
        counters.total("k", 60, windows=0)
    with pytest.raises(ValueError):
        counters.once("k", 0)


def test_expired_entries_are_pruned_when_the_cap_is_reached(clock: FakeClock) -> None:
    counters = MemoryCounters(clock=clock, max_keys=100)
    for i in range(100):
        counters.once(f"old:{i}", 10)
    assert len(counters) == 100
    clock.now += 10
    for i in range(50):
        assert counters.once(f"new:{i}", 10) is True
    # The expired entries made room; the live ones are all still there.
    assert len(counters) == 50
    assert all(counters.once(f"new:{i}", 10) is False for i in range(50))


def test_the_cap_holds_with_many_live_keys(clock: FakeClock) -> None:
    counters = MemoryCounters(clock=clock, max_keys=1000)
    for i in range(20_000):
        clock.now += 0.001
        counters.hit(f"client:{i}", 60)
        assert len(counters) <= 1000
    # What survives is the newest, and it keeps counting correctly.
    assert counters.hit("client:19999", 60).count == 2
    assert counters.once("fresh", 60) is True
    assert counters.once("fresh", 60) is False


def test_hits_from_many_threads_all_count() -> None:
    counters = MemoryCounters()
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for _ in range(1000):
            counters.hit("shared", 3600, keep_windows=2)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # One window of an hour could still be crossed mid-test: sum the last two.
    assert counters.total("shared", 3600, windows=2) == 8000


def test_once_from_many_threads_admits_exactly_one() -> None:
    counters = MemoryCounters()
    start = threading.Barrier(8)
    results: list[bool] = []

    def worker() -> None:
        start.wait()
        mine = [counters.once(f"nonce:{i}", 60) for i in range(200)]
        results.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 200
    assert results.count(False) == 7 * 200


def test_counters_for_caches_one_instance_per_url() -> None:
    memory = counters_for(None)
    assert isinstance(memory, MemoryCounters)
    assert counters_for(None) is memory
    assert counters_for("") is memory
    # Building a client does not connect, so no server is needed here.
    shared = counters_for("redis://127.0.0.1:1/0")
    assert isinstance(shared, RedisCounters)
    assert counters_for("redis://127.0.0.1:1/0") is shared
    assert counters_for("redis://127.0.0.1:1/1") is not shared
