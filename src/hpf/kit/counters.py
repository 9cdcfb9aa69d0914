"""Fixed-window counters and a once-store (nonces), shared through Redis or held in memory.

The gateway uses them for per-channel flow control (hits per second and per minute), for
error-rate windows and for replay protection of signed requests. With a Redis URL every app
process sees the same counters; without one a process-wide in-memory store serves one process.

Windows are fixed: window index = floor(now / window_s), so every process with a synchronised
clock agrees on where a window starts. Redis keys (all under the prefix, default "hpf:"):
`count:{key}:{window_s}:{index}` for a window's counter and `once:{key}` for a seen key.

Failure policy: counting fails open (a Redis outage must not take the platform down with it;
flow control is lost for the duration, and a warning is logged), `once` fails closed (accepting
a possibly replayed signed request is worse than asking the client to retry).
"""

import heapq
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
import structlog
from redis.backoff import NoBackoff
from redis.retry import Retry

from hpf.kit.errors import UpstreamUnavailable

log = structlog.get_logger(__name__)

Clock = Callable[[], float]

# Short enough that a dead or black-holed Redis costs a request half a second, not a hang.
SOCKET_TIMEOUT_S = 0.5
MEMORY_MAX_KEYS = 100_000
SCAN_BATCH = 1000


@dataclass(frozen=True)
class Hit:
    """A counter after one hit: its value in the current window and when that window ends."""

    count: int
    retry_after_s: int


class Counters:
    """Fixed-window counters and a once-store; see the module docstring for the semantics."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock

    def hit(self, key: str, window_s: int, amount: int = 1, keep_windows: int = 2) -> Hit:
        """Add `amount` to key's counter of the current window; it expires after keep_windows."""
        raise NotImplementedError

    def total(self, key: str, window_s: int, windows: int) -> int:
        """Sum of key's counters over the current window and the windows - 1 before it."""
        raise NotImplementedError

    def once(self, key: str, ttl_s: int) -> bool:
        """True the first time key is seen within ttl_s seconds, False for a repeat."""
        raise NotImplementedError

    def clear(self) -> None:
        """Forget every counter and seen key of this store (tests only)."""
        raise NotImplementedError

    def _window(self, window_s: int, now: float) -> tuple[int, int]:
        """The index of the window holding `now` and the whole seconds (>= 1) until it ends."""
        if window_s < 1:
            raise ValueError("window_s must be at least 1")
        index = math.floor(now / window_s)
        # At least 1: a client told "retry after 0 s" would retry at once into the same window.
        return index, max(1, math.ceil((index + 1) * window_s - now))


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise ValueError(f"{name} must be at least 1")


class MemoryCounters(Counters):
    """Counters for one process: a dict of (value, expiry) under a lock, capped in size."""

    def __init__(self, clock: Clock = time.time, max_keys: int = MEMORY_MAX_KEYS) -> None:
        super().__init__(clock)
        self._max_keys = max_keys
        self._lock = threading.Lock()
        # key -> [value, expires_at]; counters and once-keys live in separate namespaces.
        self._entries: dict[tuple[str, ...], list[float]] = {}

    def hit(self, key: str, window_s: int, amount: int = 1, keep_windows: int = 2) -> Hit:
        """Add `amount` to key's counter of the current window; it expires after keep_windows."""
        _check_positive(keep_windows=keep_windows)
        with self._lock:
            now = self._clock()
            index, retry_after_s = self._window(window_s, now)
            slot = ("count", key, str(window_s), str(index))
            entry = self._live(slot, now)
            if entry is None:
                self._make_room(now)
                entry = self._entries[slot] = [0, 0.0]
            entry[0] += amount
            # Like Redis EXPIRE on every hit: the expiry moves with the latest hit.
            entry[1] = now + keep_windows * window_s
            return Hit(count=int(entry[0]), retry_after_s=retry_after_s)

    def total(self, key: str, window_s: int, windows: int) -> int:
        """Sum of key's counters over the current window and the windows - 1 before it."""
        _check_positive(windows=windows)
        with self._lock:
            now = self._clock()
            index, _ = self._window(window_s, now)
            entries = (self._live(("count", key, str(window_s), str(i)), now)
                       for i in range(index - windows + 1, index + 1))
            return int(sum(entry[0] for entry in entries if entry is not None))

    def once(self, key: str, ttl_s: int) -> bool:
        """True the first time key is seen within ttl_s seconds, False for a repeat."""
        _check_positive(ttl_s=ttl_s)
        slot = ("once", key)
        with self._lock:
            now = self._clock()
            if self._live(slot, now) is not None:
                return False
            self._make_room(now)
            self._entries[slot] = [1, now + ttl_s]
            return True

    def clear(self) -> None:
        """Forget every counter and seen key of this store (tests only)."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        """Number of entries held, expired or not (for tests of the size cap)."""
        return len(self._entries)

    def _live(self, slot: tuple[str, ...], now: float) -> list[float] | None:
        entry = self._entries.get(slot)
        if entry is not None and entry[1] <= now:
            del self._entries[slot]
            return None
        return entry

    def _make_room(self, now: float) -> None:
        """Keep the dict under its cap: drop expired entries, then those expiring soonest."""
        if len(self._entries) < self._max_keys:
            return
        for slot in [s for s, (_, expires_at) in self._entries.items() if expires_at <= now]:
            del self._entries[slot]
        # Evict down to 90 % so a full store of live keys is not rescanned on every insert;
        # the soonest-expiring entries are the ones whose loss matters least.
        excess = len(self._entries) - int(self._max_keys * 0.9)
        if excess > 0:
            soonest = heapq.nsmallest(excess, self._entries.items(), key=lambda item: item[1][1])
            for slot, _ in soonest:
                del self._entries[slot]


class RedisCounters(Counters):
    """Counters shared by every app process through one Redis server."""

    def __init__(self, url: str, clock: Clock = time.time, prefix: str = "hpf:") -> None:
        super().__init__(clock)
        self._prefix = prefix
        self._redis = redis.Redis.from_url(
            url,
            socket_timeout=SOCKET_TIMEOUT_S,
            socket_connect_timeout=SOCKET_TIMEOUT_S,
            # redis-py 8 defaults to 10 retries with backoff of up to 1 s, which could stretch
            # an outage into multi-second requests. Retry once, and only a dropped connection
            # (a pooled socket left over from before a Redis restart), never a timeout: the
            # command may have run, and a second INCRBY or SET NX would count twice or refuse
            # a fresh nonce.
            retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
        )

    def hit(self, key: str, window_s: int, amount: int = 1, keep_windows: int = 2) -> Hit:
        """Add `amount` to key's counter of the current window; it expires after keep_windows."""
        _check_positive(keep_windows=keep_windows)
        index, retry_after_s = self._window(window_s, self._clock())
        name = self._count_key(key, window_s, index)
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.incrby(name, amount)
            pipe.expire(name, keep_windows * window_s)
            count, _ = pipe.execute()
        except redis.RedisError as exc:
            log.warning("counters.unavailable", op="hit", key=key, error=str(exc))
            return Hit(count=0, retry_after_s=1)
        return Hit(count=int(count), retry_after_s=retry_after_s)

    def total(self, key: str, window_s: int, windows: int) -> int:
        """Sum of key's counters over the current window and the windows - 1 before it."""
        _check_positive(windows=windows)
        index, _ = self._window(window_s, self._clock())
        names = [self._count_key(key, window_s, i) for i in range(index - windows + 1, index + 1)]
        try:
            values = self._redis.mget(names)
        except redis.RedisError as exc:
            log.warning("counters.unavailable", op="total", key=key, error=str(exc))
            return 0
        return sum(int(value) for value in values if value is not None)

    def once(self, key: str, ttl_s: int) -> bool:
        """True the first time key is seen within ttl_s seconds, False for a repeat."""
        _check_positive(ttl_s=ttl_s)
        try:
            return bool(self._redis.set(f"{self._prefix}once:{key}", 1, nx=True, ex=ttl_s))
        except redis.RedisError as exc:
            log.warning("counters.unavailable", op="once", key=key, error=str(exc))
            raise UpstreamUnavailable("系统繁忙，请稍后再试", code="COUNTERS_UNAVAILABLE") from exc

    def clear(self) -> None:
        """Delete this store's keys (SCAN by prefix, never FLUSHDB: the database is shared)."""
        for kind in ("count", "once"):
            batch: list[bytes] = []
            for name in self._redis.scan_iter(match=f"{self._prefix}{kind}:*", count=SCAN_BATCH):
                batch.append(name)
                if len(batch) >= SCAN_BATCH:
                    self._redis.delete(*batch)
                    batch.clear()
            if batch:
                self._redis.delete(*batch)

    def close(self) -> None:
        """Release the connection pool."""
        self._redis.close()

    def _count_key(self, key: str, window_s: int, index: int) -> str:
        return f"{self._prefix}count:{key}:{window_s}:{index}"


_instances: dict[str | None, Counters] = {}
_instances_lock = threading.Lock()


def counters_for(redis_url: str | None) -> Counters:
    """RedisCounters for a URL, else the process-wide MemoryCounters; one instance per URL."""
    url = redis_url or None
    with _instances_lock:
        counters = _instances.get(url)
        if counters is None:
            counters = _instances[url] = RedisCounters(url) if url else MemoryCounters()
        return counters
