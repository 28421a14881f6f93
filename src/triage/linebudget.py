"""A budget of log lines for what anyone can cause (refused requests, unparsable ones, clients
that do not read): the first `burst` events of each `window_s` get their line, the rest are
counted by a key and summed up in one line when the window ends, so a flood cannot fill the
logs (or the bill for them) while the summary still says what happened and how often.

A flood of one problem does not hide another: past the burst, the first event of a key not
yet logged in the window still gets its line (up to FIRST_LINES such keys a window), so one
`413 too_large` of a real sender is seen among a scan's thousand `401 bad_token`s. A budget
given no summary of its own says how many lines it dropped, under its `name`
(`log.lines_dropped`).

The gateway's `ingest.refused` lines, the endpoint port's `http.refused` and the status page's
`status_page.login_refused` lines each keep one."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable

import structlog

log = structlog.get_logger(__name__)

#: Called with the counts of what was not logged in a window (never empty).
Summary = Callable[[Counter[str]], None]

#: Keys past the burst whose first event of a window still gets its line: enough for every
#: distinct problem a flood may hide, few enough that endless invented keys cannot undo the
#: budget.
FIRST_LINES = 16


class LineBudget:
    """At most `burst` lines per `window_s`, and the first of each key not yet logged in the
    window (FIRST_LINES of them); `admit(key)` says whether this event gets its own line, and
    counts it under `key` when not. The counts go to `summary` at the end of the window (an
    event loop's timer, when one is running) or at the next `flush()`; without a summary, a
    `log.lines_dropped` warning naming the budget says how many."""

    def __init__(
        self,
        burst: int,
        window_s: float,
        summary: Summary | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        name: str = "",
    ) -> None:
        self.burst, self.window_s, self._clock = burst, window_s, clock
        self.name = name
        self._summary: Summary = summary or self._say_dropped
        self._window_start = -window_s
        self._logged = 0
        #: Keys that got a line this window, and how many of them came past the burst.
        self._keys_logged: set[str] = set()
        self._firsts = 0
        #: Events of this window that got no line, by key.
        self._suppressed: Counter[str] = Counter()
        self._flush_later: asyncio.TimerHandle | None = None

    def admit(self, key: str = "") -> bool:
        now = self._clock()
        if now - self._window_start >= self.window_s:
            self.flush()
            self._window_start, self._logged, self._firsts = now, 0, 0
            self._keys_logged.clear()
        if self._logged < self.burst or self._first_of(key):
            self._logged += 1
            self._keys_logged.add(key)
            return True
        self._suppressed[key] += 1
        if self._flush_later is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return False  # no loop (a logging filter's thread): the next window flushes
            delay = self._window_start + self.window_s - now
            self._flush_later = loop.call_later(delay, self.flush)
        return False

    def _first_of(self, key: str) -> bool:
        """`key` has had no line this window and there is room for one more such first line."""
        if key in self._keys_logged or self._firsts >= FIRST_LINES:
            return False
        self._firsts += 1
        return True

    def flush(self) -> None:
        """Hand what was not logged to `summary`, if anything (at each window's end, and when
        the process stops)."""
        if self._flush_later is not None:
            self._flush_later.cancel()
            self._flush_later = None
        if not self._suppressed:
            return
        counts, self._suppressed = self._suppressed, Counter()
        self._summary(counts)

    def _say_dropped(self, counts: Counter[str]) -> None:
        """The summary of a budget made without one: the lines it dropped, by key when it was
        given keys."""
        keyed = {key: n for key, n in counts.most_common(10) if key}
        log.warning(
            "log.lines_dropped",
            lines=self.name or "unnamed",
            dropped=counts.total(),
            window_s=self.window_s,
            **({"by_key": keyed} if keyed else {}),
        )
