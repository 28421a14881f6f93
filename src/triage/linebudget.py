"""A budget of log lines for what anyone can cause (refused requests, unparsable ones, clients
that do not read): the first `burst` events of each `window_s` get their line, the rest are
counted by a key and summed up in one line when the window ends, so a flood cannot fill the
logs (or the bill for them) while the summary still says what happened and how often.

The gateway's `ingest.refused` lines, the endpoint port's `http.refused` and the status page's
`status_page.login_refused` lines each keep one."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable

#: Called with the counts of what was not logged in a window (never empty).
Summary = Callable[[Counter[str]], None]


class LineBudget:
    """At most `burst` lines per `window_s`; `admit(key)` says whether this event gets its own
    line, and counts it under `key` when not. The counts go to `summary` at the end of the
    window (an event loop's timer, when one is running) or at the next `flush()`."""

    def __init__(
        self,
        burst: int,
        window_s: float,
        summary: Summary | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst, self.window_s, self._summary, self._clock = burst, window_s, summary, clock
        self._window_start = -window_s
        self._logged = 0
        #: Events of this window that got no line, by key.
        self._suppressed: Counter[str] = Counter()
        self._flush_later: asyncio.TimerHandle | None = None

    def admit(self, key: str = "") -> bool:
        now = self._clock()
        if now - self._window_start >= self.window_s:
            self.flush()
            self._window_start, self._logged = now, 0
        if self._logged < self.burst:
            self._logged += 1
            return True
        if self._summary is None:
            return False
        self._suppressed[key] += 1
        if self._flush_later is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return False  # no loop (a logging filter's thread): the next window flushes
            delay = self._window_start + self.window_s - now
            self._flush_later = loop.call_later(delay, self.flush)
        return False

    def flush(self) -> None:
        """Hand what was not logged to `summary`, if anything (at each window's end, and when
        the process stops)."""
        if self._flush_later is not None:
            self._flush_later.cancel()
            self._flush_later = None
        if not self._suppressed or self._summary is None:
            return
        counts, self._suppressed = self._suppressed, Counter()
        self._summary(counts)
