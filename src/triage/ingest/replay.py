"""Bounding the replay of a signed webhook (Sentry's, and Grafana's when it signs instead of
sending a token).

Sentry signs only the body: `Sentry-Hook-Timestamp` is not part of the signature, so a captured
request stays valid for ever. Grafana signs its time with the body when its timestamp header is
set (then a capture is refused once that time leaves the window), and only the body otherwise.
The gateway bounds that twice:

- a delivery whose signature this process already accepted within `REPLAY_WINDOW_S` is not
  queued again (answered 200 `duplicate`: a sender's retry of a delivery whose first answer it
  lost is no failure); one whose twin is still being handled is answered 503 with Retry-After,
  so a sender's retry loses nothing whichever way the first ends;
- a `Sentry-Hook-Timestamp` (or Grafana's `X-Grafana-Alerting-Timestamp`) further than the
  window from our clock is refused (401), and one that is not a Unix time is 400. Both send the
  time of sending in seconds.

What is left where the signature covers no time (Sentry's; Grafana's without its timestamp
header), as no receiver can close it alone: each replica
remembers only what it accepted, so a replay within the window can pass once on every other
replica; after the window, a replay without the timestamp header, or with a fresh one, passes
again; a restart forgets. The daemon's lifecycle then treats it as one more delivery of the same
incident (counted, never a second ticket while the incident is open).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: How long an accepted signature is remembered, and how far a timestamp may be from our clock.
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
    """The signatures accepted within the window (oldest first) and those being handled now."""

    def __init__(
        self,
        *,
        window_s: float = REPLAY_WINDOW_S,
        capacity: int = MAX_REMEMBERED,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window_s = window_s
        self.capacity = capacity
        self._clock = clock
        #: Signature → when it was accepted; insertion order is acceptance order.
        self._accepted: OrderedDict[str, float] = OrderedDict()
        self._in_flight: set[str] = set()

    def __len__(self) -> int:
        return len(self._accepted)

    @contextmanager
    def delivery(self, signature: str) -> Iterator[None]:
        """Hold `signature` while its delivery is handled: remembered if the block ends without
        an exception, forgotten if it raises (the sender's retry must pass). Replayed when the
        signature was accepted within the window or is being handled now."""
        key = signature.strip().lower()
        self._forget_expired()
        if key in self._accepted or key in self._in_flight:
            raise Replayed(in_flight=key in self._in_flight)
        self._in_flight.add(key)
        try:
            yield
        finally:
            self._in_flight.discard(key)
        self._remember(key)

    def _remember(self, key: str) -> None:
        self._accepted[key] = self._clock()
        while len(self._accepted) > self.capacity:
            self._accepted.popitem(last=False)

    def _forget_expired(self) -> None:
        horizon = self._clock() - self.window_s
        while self._accepted:
            key, accepted_at = next(iter(self._accepted.items()))
            if accepted_at > horizon:
                return
            del self._accepted[key]
