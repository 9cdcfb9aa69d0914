"""Where a job's time goes, statement by statement (`--profile`).

Listens to the engine's cursor events and sums the wall time of each distinct statement text
(literals and whitespace folded), so a report can say which statement dominates.
"""

import re
import time
from collections import defaultdict

from sqlalchemy import Engine, event

_NUMBERS = re.compile(r"\b\d+\b")
_SPACES = re.compile(r"\s+")


class SqlProfile:
    """Attach to an engine; `top()` lists (seconds, calls, statement) by time."""

    def __init__(self, engine: Engine, width: int = 160) -> None:
        self.engine = engine
        self.width = width
        self.totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        conn.info.setdefault("bench_t0", []).append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        elapsed = time.perf_counter() - conn.info["bench_t0"].pop()
        key = _NUMBERS.sub("N", _SPACES.sub(" ", statement).strip())[: self.width]
        entry = self.totals[key]
        entry[0] += elapsed
        entry[1] += 1

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def top(self, n: int = 12) -> list[tuple[float, int, str]]:
        rows = sorted(((s, int(c), k) for k, (s, c) in self.totals.items()), reverse=True)
        return [(round(s, 3), c, k) for s, c, k in rows[:n]]

    def total_s(self) -> float:
        return sum(s for s, _ in self.totals.values())
