"""In-process counters and timings, shared by every stage; exporters read `snapshot()`.

Names follow DESIGN.md (`TicketsCreated`, `SummarizationFailures`, …). Dimensions are optional
keyword arguments and make a separate series (`incr("LLMFallbacks", reason="timeout")`).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field

SeriesKey = tuple[str, tuple[tuple[str, str], ...]]


@dataclass(slots=True)
class Timing:
    """Count, sum and max of one series' observations, plus the raw values since the last flush."""

    count: int = 0
    total: float = 0.0
    maximum: float = 0.0
    unit: str = "Milliseconds"
    pending: list[float] = field(default_factory=list)


class Metrics:
    """Thread-safe registry: SQLite and other off-loop work may count from worker threads."""

    #: Cap on unflushed raw values per series, so a stalled exporter cannot grow memory.
    MAX_PENDING = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[SeriesKey, float] = defaultdict(float)
        self._timings: dict[SeriesKey, Timing] = {}

    def incr(self, name: str, value: float = 1.0, **dims: str) -> None:
        key = (name, tuple(sorted(dims.items())))
        with self._lock:
            self._counters[key] += value

    def observe(self, name: str, value: float, unit: str = "Milliseconds", **dims: str) -> None:
        key = (name, tuple(sorted(dims.items())))
        with self._lock:
            timing = self._timings.get(key)
            if timing is None:
                timing = self._timings[key] = Timing(unit=unit)
            timing.count += 1
            timing.total += value
            timing.maximum = max(timing.maximum, value)
            if len(timing.pending) < self.MAX_PENDING:
                timing.pending.append(value)

    def counter(self, name: str, **dims: str) -> float:
        """One counter's value (0 when never counted); handy for reports and tests."""
        with self._lock:
            return self._counters.get((name, tuple(sorted(dims.items()))), 0.0)

    def total(self, name: str) -> float:
        """A counter summed over all its dimensions."""
        with self._lock:
            return sum(v for (n, _), v in self._counters.items() if n == name)

    def counters(self) -> dict[SeriesKey, float]:
        with self._lock:
            return dict(self._counters)

    def timings(self, *, drain: bool = False) -> dict[SeriesKey, Timing]:
        """Copies of every timing; with drain=True the raw values are handed over and cleared."""
        with self._lock:
            out = {}
            for key, t in self._timings.items():
                out[key] = Timing(t.count, t.total, t.maximum, t.unit, list(t.pending))
                if drain:
                    t.pending.clear()
            return out
