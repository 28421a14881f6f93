"""Readiness conditions and the event-loop watchdog behind `/healthz` and `/readyz`.

Components report conditions by name (`queue`, `breaker:llm`, `breaker:backend`); the daemon is
ready while none is failing. Liveness is the loop itself: a ticker measures how late it wakes,
so a stalled loop shows as lag (and, if it stalls for good, as an endpoint that stops answering).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass


@dataclass(slots=True)
class Condition:
    ok: bool
    detail: str
    since: float


class Health:
    #: Loop lag above which /healthz reports unhealthy, and how long a spike is remembered.
    MAX_LAG_S = 5.0
    LAG_WINDOW_S = 30.0

    def __init__(self) -> None:
        self._conditions: dict[str, Condition] = {}
        #: Worst lag seen within the last LAG_WINDOW_S, and when it was seen.
        self.loop_lag_s = 0.0
        self._lag_seen_at = 0.0

    def set(self, name: str, ok: bool, detail: str = "") -> None:
        current = self._conditions.get(name)
        if current is None or current.ok != ok or current.detail != detail:
            self._conditions[name] = Condition(ok, detail, time.time())

    @property
    def ready(self) -> bool:
        return all(c.ok for c in self._conditions.values())

    @property
    def alive(self) -> bool:
        return self.loop_lag_s < self.MAX_LAG_S

    def failing(self) -> dict[str, str]:
        return {name: c.detail for name, c in self._conditions.items() if not c.ok}

    def snapshot(self) -> dict[str, object]:
        return {
            "ready": self.ready,
            "alive": self.alive,
            "loop_lag_ms": round(self.loop_lag_s * 1000, 1),
            "conditions": {
                n: {"ok": c.ok, "detail": c.detail} for n, c in self._conditions.items()
            },
        }

    async def watch_loop(self, interval_s: float = 0.5) -> None:
        """Run forever, measuring how late the loop wakes us (its lag)."""
        while True:
            expected = time.monotonic() + interval_s
            await asyncio.sleep(interval_s)
            now = time.monotonic()
            lag = max(0.0, now - expected)
            if lag >= self.loop_lag_s or now - self._lag_seen_at > self.LAG_WINDOW_S:
                self.loop_lag_s, self._lag_seen_at = lag, now
