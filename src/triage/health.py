"""Readiness conditions and the event-loop watchdog behind `/healthz` and `/readyz`.

Components report conditions by name (`queue`, `store`, a sink's `breaker:backend`); the
daemon is ready while none is failing (but for those that only degrade it, below). Liveness is the event loop itself: a ticker measures how
late it wakes, so a stalled loop shows as lag (and, if it stalls for good, as an endpoint that
stops answering). A loop that must keep turning (intake) `beat`s with a promise of its next beat:
one that stops turning while the event loop and the HTTP server still answer (a wait nothing
ends) makes the process not alive too, except while a shutdown drains, when stopping is the plan.

A condition set `degraded_only` (the breaker of a sink whose outage holds only its own
messages: Slack, GitHub) does not make the daemon unready: intake goes on for every other
route, so a load balancer that took the replica out would lose work it still does. `/readyz`
names such a condition under `degraded` instead of `failing`, so an operator tells "degraded"
from "down".

Intake paused by holds for PAUSED_UNREADY_S (`triage.sqs.holding`: a service or budget told
every message to wait) is not ready either (`intake: held`): nothing moves. A process out of
file descriptors or memory (`process`: its work fails whatever the message)
holds every message and pauses intake, so it is not ready while any delivery waits on it.

A condition's detail (an AWS error, a URL) stays inside the process; `readiness()`, which
`/readyz` serves, names each failing or degraded condition with one fixed word instead.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

#: The fixed reason of a `queue` condition whose detail starts with it: the queue's KMS key
#: refuses our sends or receives (`triage.aws.kms_refusal`) while the queue itself answers.
KMS_DENIED = "kms_denied"
#: The fixed reason of a `queue` condition whose detail starts with it: the queue is FIFO and
#: refuses every send (`triage.sqs.fifo`; the gateway's probe, or a send refused as FIFO).
FIFO = "fifo"
#: The fixed reason of a `queue` (or `queue_deletes`) condition whose detail starts with it:
#: SQS refuses the gateway's sends (`triage.ingest.probe.REFUSED`), or the daemon's receives
#: (`triage.sqs.receiving`) or deletes (`triage.sqs.acker`), as not allowed (AccessDenied, the
#: queue gone): SQS answers, and what to mend is the role or the queue, not the network.
REFUSED = "refused"

#: Condition names come from our code (`queue`, `store`, `breaker:<sink>`); others are not shown.
_SHOWN_NAME = re.compile(r"[a-z0-9][a-z0-9:_.-]{0,63}")


@dataclass(slots=True)
class Condition:
    ok: bool
    detail: str
    since: float
    #: Failing, it degrades the daemon but leaves it ready (it still takes work).
    degraded_only: bool = False


class Health:
    #: Loop lag above which /healthz reports unhealthy, and how long a spike is remembered.
    MAX_LAG_S = 5.0
    LAG_WINDOW_S = 30.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._conditions: dict[str, Condition] = {}
        #: Worst lag seen within the last LAG_WINDOW_S (as of the watchdog's last tick).
        self._worst_lag_s = 0.0
        #: When the watchdog's sleep under way should end (monotonic), None while it is not
        #: watching: past it, the loop is that late already, whether or not the tick has run.
        self._tick_due: float | None = None
        #: The window's lags that could still be its worst, as (seen at, lag): each is larger
        #: than every later one, so the first is the worst and a smaller stall is kept until
        #: it is out of the window (or a larger one follows it).
        self._lags: deque[tuple[float, float]] = deque()
        #: Reads the time for beats (monotonic seconds); a test's hand-moved clock.
        self._clock = clock
        #: Each watched loop with when its next beat is due (`beat`).
        self._due: dict[str, float] = {}
        #: Conditions read when asked (`watch`): the detail of a failing one, None when ok.
        self._watched: dict[str, Callable[[], str | None]] = {}

    def set(self, name: str, ok: bool, detail: str = "", *, degraded_only: bool = False) -> None:
        """Report condition `name`. `degraded_only`: while it fails, the daemon still takes
        work (only the messages that need the failing part wait), so it stays ready and
        `/readyz` names it under `degraded`."""
        current = self._conditions.get(name)
        if (
            current is None
            or current.ok != ok
            or current.detail != detail
            or current.degraded_only != degraded_only
        ):
            self._conditions[name] = Condition(ok, detail, time.time(), degraded_only)

    def watch(self, name: str, read: Callable[[], str | None]) -> None:
        """Condition `name` is read when readiness is asked: failing with the detail `read`
        returns, ok when it returns None. For a condition that turns with time alone (a pause
        that becomes an outage once it has lasted), which no event would `set`."""
        self._watched[name] = read

    def _current(self) -> dict[str, Condition]:
        """Every condition now: those set, and the watched ones that fail."""
        if not self._watched:
            return self._conditions
        current = dict(self._conditions)
        for name, read in self._watched.items():
            detail = read()
            if detail is not None:
                current[name] = Condition(False, detail, time.time())
        return current

    @property
    def ready(self) -> bool:
        return all(c.ok or c.degraded_only for c in self._current().values())

    @property
    def loop_lag_s(self) -> float:
        """The loop's lag: the worst of the window, or how late the watchdog's tick is now if
        that is more. After a stall, the loop runs what was waiting in the order it became
        ready, and a probe's request read during the stall was answered before the late tick
        noted it: `alive` for a probe that had waited through the whole stall."""
        due = self._tick_due
        overdue = 0.0 if due is None else max(0.0, time.monotonic() - due)
        return max(self._worst_lag_s, overdue)

    @property
    def alive(self) -> bool:
        return self.liveness()[0]

    def liveness(self) -> tuple[bool, float, list[str]]:
        """`alive`, the loop's lag and the stalled loops, read at one instant, so a probe's
        status and body agree (read apart, a beat falling due between the reads answered 503
        with `"alive": true`, or 200 naming a stalled loop)."""
        lag_s, stalled = self.loop_lag_s, self.stalled()
        return lag_s < self.MAX_LAG_S and not stalled, lag_s, stalled

    def beat(self, name: str, within_s: float) -> None:
        """Loop `name` turned now and turns again within `within_s`, or it is stalled."""
        self._due[name] = self._clock() + within_s

    def stalled(self) -> list[str]:
        """The watched loops overdue for their beat, by name. None while a shutdown drains:
        intake stops then by design, and a restart would cut the drain's grace short."""
        draining = self._conditions.get("shutting_down")
        if draining is not None and not draining.ok:
            return []
        now = self._clock()
        return sorted(name for name, due in self._due.items() if now > due)

    def failing(self) -> dict[str, str]:
        """Each failing condition, degraded only or not, with its full detail: for logs and
        tests, never for a client."""
        return {name: c.detail for name, c in self._current().items() if not c.ok}

    def readiness(self) -> dict[str, object]:
        """What `/readyz` answers: ready or not, each failing condition that makes it not ready
        with a fixed reason, and `degraded` (only when some is) with those that do not."""
        failing = self._shown(degraded_only=False)
        degraded = self._shown(degraded_only=True)
        answer: dict[str, object] = {"ready": not failing, "failing": failing}
        if degraded:  # absent when empty: a healthy daemon's answer is as it always was
            answer["degraded"] = degraded
        return answer

    def _shown(self, *, degraded_only: bool) -> dict[str, str]:
        """The failing conditions of one kind as a client may see them: each name from our
        code (else `other`) with its fixed reason, never its detail."""
        return {
            (name if _SHOWN_NAME.fullmatch(name) else "other"): _reason(name, c.detail)
            for name, c in self._current().items()
            if not c.ok and c.degraded_only == degraded_only
        }

    async def watch_loop(self, interval_s: float = 0.5) -> None:
        """Run forever, measuring how late the loop wakes us (its lag)."""
        try:
            while True:
                expected = self._tick_due = time.monotonic() + interval_s
                await asyncio.sleep(interval_s)
                now = time.monotonic()
                self._note_lag(now, max(0.0, now - expected))
        finally:
            self._tick_due = None  # stopped: no tick is late

    def _note_lag(self, now: float, lag: float) -> None:
        """Remember one tick's lag; `loop_lag_s` becomes the worst within the window. The
        deque holds at most one entry per tick of the window (LAG_WINDOW_S / interval)."""
        while self._lags and self._lags[-1][1] <= lag:
            self._lags.pop()
        self._lags.append((now, lag))
        while now - self._lags[0][0] > self.LAG_WINDOW_S:
            self._lags.popleft()
        self._worst_lag_s = self._lags[0][1]


def _reason(name: str, detail: str) -> str:
    """One word from a fixed set for a failing condition; the detail only picks among them."""
    if name in {"queue", "queue_deletes"} and detail.startswith(REFUSED):
        return REFUSED
    if name == "queue":
        if detail.startswith(KMS_DENIED):
            return KMS_DENIED
        return FIFO if detail.startswith(FIFO) else "unreachable"
    if name == "store":
        return "unavailable"
    if name == "shutting_down":
        return "draining"
    if name == "intake":
        return "held"
    if name == "process":  # `ProcessLimitError`'s words (`triage.errors.process_limit`)
        return "out_of_memory" if detail.startswith("out of memory") else "out_of_files"
    if name.startswith("breaker:"):
        return "half-open" if detail.startswith("half-open") else "open"
    return "failing"
