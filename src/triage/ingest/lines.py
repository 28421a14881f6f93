"""The gateway's `ingest.refused` lines, bounded: anyone can make the gateway refuse (a scan of
paths, a flood of wrong credentials), and a line for each would let them fill the logs, and
the bill for them. The first `burst` refusals of each `window_s` get their line; the rest are
counted, by status and reason, into one `ingest.refused_suppressed` line when the window ends.
`IngestRequests` still counts every answer."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import structlog

log = structlog.get_logger(__name__)


class RefusalLines:
    """Logs `ingest.refused` lines, at most `burst` per `window_s`, and sums up the rest."""

    def __init__(
        self, burst: int = 20, window_s: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.burst, self.window_s, self._clock = burst, window_s, clock
        self._window_start = -window_s
        self._logged = 0
        #: "<status> <reason>" → refusals not logged in this window.
        self._suppressed: Counter[str] = Counter()
        self._flush_later: asyncio.TimerHandle | None = None

    def refused(self, status: int, reason: str, **fields: Any) -> None:
        now = self._clock()
        if now - self._window_start >= self.window_s:
            self.flush()
            self._window_start, self._logged = now, 0
        if self._logged < self.burst:
            self._logged += 1
            log.info("ingest.refused", status=status, reason=reason, **fields)
            return
        self._suppressed[f"{status} {reason}"] += 1
        if self._flush_later is None:
            delay = self._window_start + self.window_s - now
            self._flush_later = asyncio.get_running_loop().call_later(delay, self.flush)

    def flush(self) -> None:
        """Write the summary line of the refusals not logged, if any (at each window's end,
        and when the gateway stops)."""
        if self._flush_later is not None:
            self._flush_later.cancel()
            self._flush_later = None
        if not self._suppressed:
            return
        log.warning(
            "ingest.refused_suppressed",
            count=self._suppressed.total(),
            refused=dict(self._suppressed.most_common(10)),
            window_s=self.window_s,
        )
        self._suppressed.clear()
