"""Bounding the replay of a signed webhook (Sentry's, and Grafana's when it signs instead of
sending a token).

Sentry signs only the body: `Sentry-Hook-Timestamp` is not part of the signature, so a captured
request stays valid for ever. Grafana signs its time with the body when its timestamp header is
set (then a capture is refused once that time leaves the window), and only the body otherwise.
The gateway bounds that twice:

- a delivery whose signature this process already accepted is not queued again (answered
  200 `duplicate`: a sender's retry of a delivery whose first answer it lost is no failure)
  while it is remembered; one whose twin is still being handled is answered 503 with
  Retry-After, so a sender's retry loses nothing whichever way the first ends;
- a `Sentry-Hook-Timestamp` (or Grafana's `X-Grafana-Alerting-Timestamp`) further than the
  window from our clock is refused (401), and one that is not a Unix time is 400. Both send the
  time of sending in seconds.

A signature is remembered for `REPLAY_WINDOW_S`, and, when a time was sent with it, until that
time too has left the window (`ReplayGuard.delivery`'s `sent_at`): a sender whose clock runs
ahead has its time accepted for up to twice the window after it arrives, and a capture must
not pass the guard once the guard forgets it while the time check still takes it. The same
rule holds for every signed scheme (the gateway passes Sentry's time and Grafana's alike).

The gateway keys a Sentry delivery on its signature and its `Sentry-Hook-Timestamp`: Sentry
sends a byte-identical body for an issue resolved, unresolved and resolved again, each with its
own time, and each must be queued. That timestamp is not signed, so a capture sent again with
a new (near) time passes the guard as a new delivery: the time check and the source's rate
bound it, and the daemon counts it as one more delivery of the same incident.

What is left where the signature covers no time (Sentry's; Grafana's without its timestamp
header), as no receiver can close it alone: each replica remembers only what it accepted, so a
replay within the window can pass once on every other replica; after the window, a replay
without the timestamp header, or with a fresh one, passes again; a restart forgets. The daemon's
lifecycle then treats it as one more delivery of the same incident (counted, never a second
ticket while the incident is open). A byte-identical Grafana body without its timestamp header
within the window (a repeat notification) is answered `duplicate`: it says nothing the first
did not.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: How long an accepted signature is remembered at least, and how far a timestamp may be from
#: our clock.
REPLAY_WINDOW_S = 300.0
#: Signatures remembered at most (about 200 bytes each): the sources' rate limit keeps the
#: accepted ones within the window far below this; past it the oldest are forgotten first.
MAX_REMEMBERED = 100_000


class Replayed(Exception):
    """Raised when a signature was accepted within the window (`in_flight`: its twin is being
    handled now, and may yet fail)."""

    def __init__(self, *, in_flight: bool) -> None:
        super().__init__("in flight" if in_flight else "already accepted")
        self.in_flight = in_flight


class BadTimestamp(Exception):
    """Raised for a timestamp header that is not a Unix time (`stale` False) or is too far
    from our clock (`stale` True); the message says which, without echoing the value."""

    def __init__(self, message: str, *, stale: bool) -> None:
        super().__init__(message)
        self.stale = stale


def check_timestamp(
    value: str | None,
    *,
    header: str = "Sentry-Hook-Timestamp",
    window_s: float = REPLAY_WINDOW_S,
    now: Callable[[], float] = time.time,
) -> None:
    """Nothing for an absent header or one within `window_s` of `now()`; else BadTimestamp
    naming `header`."""
    if value is None:
        return
    try:
        sent_at = float(value.strip())
    except ValueError:
        sent_at = math.nan
    if not math.isfinite(sent_at):
        raise BadTimestamp(f"{header} is not a Unix time in seconds", stale=False)
    if abs(now() - sent_at) > window_s:
        raise BadTimestamp(
            f"{header} is more than {window_s:g} s from the gateway's clock", stale=True
        )


class ReplayGuard:
    """The signatures accepted lately (oldest first, each with when it is forgotten) and those
    being handled now."""

    def __init__(
        self,
        *,
        window_s: float = REPLAY_WINDOW_S,
        capacity: int = MAX_REMEMBERED,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.window_s = window_s
        self.capacity = capacity
        self._clock = clock
        #: What a sent time is compared with (a Unix time, as senders send it).
        self._wall_clock = wall_clock
        #: Signature → when (by `clock`) it is forgotten; insertion order is acceptance order.
        self._accepted: OrderedDict[str, float] = OrderedDict()
        self._in_flight: set[str] = set()

    def __len__(self) -> int:
        return len(self._accepted)

    @contextmanager
    def delivery(self, signature: str, *, sent_at: float | None = None) -> Iterator[None]:
        """Hold `signature` while its delivery is handled: remembered if the block ends without
        an exception, forgotten if it raises (the sender's retry must pass). Replayed when the
        signature is remembered or is being handled now. `sent_at` is the Unix time sent with
        it (already within the window of our clock, `check_timestamp`): the signature is then
        remembered until that time has left the window too."""
        key = signature.strip().lower()
        self._forget_expired()
        if self._remembered(key) or key in self._in_flight:
            raise Replayed(in_flight=key in self._in_flight)
        self._in_flight.add(key)
        try:
            yield
        finally:
            self._in_flight.discard(key)
        self._remember(key, self._memory_s(sent_at))

    def _memory_s(self, sent_at: float | None) -> float:
        """How long from now a signature is remembered: the window, and as much more as its
        sent time is ahead of our clock (a time behind it never shortens the window)."""
        ahead_s = 0.0 if sent_at is None else sent_at - self._wall_clock()
        return self.window_s + min(max(ahead_s, 0.0), self.window_s)

    def _remembered(self, key: str) -> bool:
        """Whether `key` is remembered now: one whose time has passed is forgotten here, since
        one remembered longer ahead of it keeps `_forget_expired` from reaching it."""
        forget_at = self._accepted.get(key)
        if forget_at is None:
            return False
        if forget_at > self._clock():
            return True
        del self._accepted[key]
        return False

    def _remember(self, key: str, memory_s: float) -> None:
        self._accepted[key] = self._clock() + memory_s
        while len(self._accepted) > self.capacity:
            self._accepted.popitem(last=False)

    def _forget_expired(self) -> None:
        """Forget the oldest signatures whose time has passed (each is remembered at most twice
        the window, so none outstays that behind one remembered longer)."""
        now = self._clock()
        while self._accepted:
            key, forget_at = next(iter(self._accepted.items()))
            if forget_at > now:
                return
            del self._accepted[key]
