"""The gateway's `ingest.refused` lines, bounded: anyone can make the gateway refuse (a scan of
paths, a flood of wrong credentials), and a line for each would let them fill the logs, and
the bill for them. The first `burst` refusals of each `window_s` get their line; the rest are
counted, by status and reason, into one `ingest.refused_suppressed` line when the window ends.
`IngestRequests` still counts every answer."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import structlog

from triage.linebudget import LineBudget

log = structlog.get_logger(__name__)


class RefusalLines:
    """Logs `ingest.refused` lines, at most `burst` per `window_s`, and sums up the rest."""

    def __init__(
        self, burst: int = 20, window_s: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.window_s = window_s
        self._budget = LineBudget(burst, window_s, self._sum_up, clock)

    def refused(self, status: int, reason: str, **fields: Any) -> None:
        if self._budget.admit(f"{status} {reason}"):
            log.info("ingest.refused", status=status, reason=reason, **fields)

    def flush(self) -> None:
        """Write the summary line of the refusals not logged, if any (at each window's end,
        and when the gateway stops)."""
        self._budget.flush()

    def _sum_up(self, suppressed: Counter[str]) -> None:
        log.warning(
            "ingest.refused_suppressed",
            count=suppressed.total(),
            refused=dict(suppressed.most_common(10)),
            window_s=self.window_s,
        )
