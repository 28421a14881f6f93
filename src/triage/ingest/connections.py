"""How many connections the gateway keeps open, how many bytes of unfinished request heads they
hold together, and which connection goes when a new one needs room.

aiohttp takes any number of connections (each costs a descriptor and ~10 KiB, so idle ones alone
could exhaust either), and bounds each header line and their number, not the bytes of unfinished
heads over all connections. `OpenConnections` bounds both, for one server.

At the connection bound the gateway does what nginx does when its `worker_connections` run short:
it closes the connection idle longest (between requests, or opened and silent: RFC 9112 9.5 lets
a server close a connection at any time, and clients open a new one). When none is idle, it
closes the connection that has been sending what no credential vouches for yet longest (answered
`408`), once that is over `SLOW_HEAD_S`: a request head, or a body read before it can be
authenticated (a signed one's, Sentry's or Grafana's). Otherwise a sender trickling either would hold its slot for as long as
the idle timeout lets it, and open it again (slowloris). When neither is there, the new
connection is refused (`503` with `Retry-After: 1`, unread, as uvicorn's `limit_concurrency` and
the daemon's endpoint port do), so a flood costs a descriptor for an instant only. One warning
when the bound is first reached, one line with the counts when it is left; each refused
connection counts as a `503` in `IngestRequests`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from resource import RLIM_INFINITY, RLIMIT_NOFILE, getrlimit
from typing import Protocol

import structlog

from triage.ingest.aborts import Aborts
from triage.metrics import Metrics

log = structlog.get_logger(__name__)

#: Connections the gateway keeps open at most, whatever the descriptor limit allows: ~10 KiB
#: each (measured idle, after a request), so 40 MiB of the task's 512 MiB; a load balancer in
#: front opens far fewer.
MAX_CONNECTIONS = 4096
#: Descriptors kept for everything else the process opens: SQS's and Secrets Manager's
#: connection pools, the endpoint port and its clients, logs, the listening sockets, and the
#: refused connections still being answered (`server.MAX_REFUSING`).
FD_RESERVE = 256

#: At the connection bound with none idle, a request head (or a body not yet authenticated)
#: that has been arriving this long is closed (408) for a new connection, the oldest first.
#: Webhook senders write a head in one packet; one still arriving after seconds is a sender
#: holding its slot (slowloris), and only when slots run short does it lose it
#: (TRIAGE_INGEST_IDLE_TIMEOUT_S, and the body timeout, bound it otherwise).
SLOW_HEAD_S = 2.0

#: Bytes of unfinished request heads held over all of one server's connections, at most
#: (aiohttp takes any number of them; `server.MAX_HEAD_BYTES` bounds each). Past it, heads
#: arriving for over SLOW_HEAD_S are closed (408), oldest first, and if that is not room enough
#: the connection adding to them is answered 503, so senders holding heads open cannot make the
#: gateway hold more. A whole head usually comes in one read, and never counts here.
MAX_HEADS_BYTES = 16 * 1024 * 1024


def connection_limit(max_connections: int = MAX_CONNECTIONS) -> int:
    """How many connections the gateway may keep open: `max_connections`, or fewer when the
    process's descriptor limit (`ulimit -n`; Fargate's default is 65,535) leaves less room
    beside `FD_RESERVE`."""
    soft, _ = getrlimit(RLIMIT_NOFILE)
    if soft == RLIM_INFINITY:
        return max_connections
    return max(1, min(max_connections, soft - FD_RESERVE))


class ClosableConnection(Protocol):
    """A connection as `OpenConnections` sees it: what it is doing, and how it is closed to
    make room."""

    @property
    def idle(self) -> bool:
        """Open with no request in hand: none being answered or queued, no head arriving."""

    @property
    def head_arriving(self) -> bool:
        """Part of a request head has arrived, not all of it."""

    def close_idle(self) -> None:
        """Close this idle connection for a new one (its slot is free at once)."""

    def close_slow(self, *, for_another: bool = True) -> None:
        """Close this connection, slow to send a head or an unauthenticated body (408)."""


@dataclass(slots=True)
class _Episode:
    """What the gateway did while the bound was reached, for the line when it is left."""

    refused: int = 0
    idle_closed: int = 0
    slow_closed: int = 0


class OpenConnections:
    """The connections of one server that hold a descriptor, at most `limit` of them, the idle
    ones among them, longest idle first, and those receiving what no credential vouches for
    yet, oldest first: the ones to close, in that order, when a new one needs room. It also
    counts the bytes of unfinished request heads they hold together (`head_bytes`)."""

    def __init__(
        self, limit: int, metrics: Metrics, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.count = 0
        #: Connections answered before their request was read (refused at the bound, beyond
        #: `limit`; or their head refused) still dropping what their client sends.
        self.refusing = 0
        #: Bytes of unfinished request heads held over all connections.
        self.head_bytes = 0
        self._metrics = metrics
        #: Requests whose client went away before they were whole, or answered.
        self.aborts = Aborts(metrics)
        #: Connections that were idle when last seen, in the order they became so (a dict keeps
        #: insertion order): each is checked again before it is closed.
        self._idle: dict[ClosableConnection, None] = {}
        #: Connections receiving a request head, or a body before it can be authenticated, by
        #: when that began (oldest first, as a dict keeps insertion order).
        self._unproven: dict[ClosableConnection, float] = {}
        self._clock = clock
        #: Set while the bound is reached.
        self._episode: _Episode | None = None

    @property
    def heads_over_budget(self) -> bool:
        """Whether unfinished heads together hold more than MAX_HEADS_BYTES."""
        return self.head_bytes > MAX_HEADS_BYTES

    def admit(self, connection: ClosableConnection) -> bool:
        """Whether a new connection may stay: there is room, or an idle one, or else one slow
        to send what would authenticate it, was closed for it."""
        full = self.count >= self.limit
        if full and not self._close_longest_idle() and not self._close_slowest_unproven():
            self._begin_episode().refused += 1
            self.answered(503)
            return False
        self.count += 1
        self._idle[connection] = None
        return True

    def answered(self, status: int) -> None:
        """Count an answer given before any handler ran (no source known): `IngestRequests`
        counts every answer, and these lines are bounded, so a flood shows only here."""
        self._metrics.incr("IngestRequests", source="unknown", status=str(status))

    def unproven_began(self, connection: ClosableConnection) -> None:
        """`connection` began receiving a head, or a body not yet authenticated."""
        self._unproven.pop(connection, None)  # (a dict keeps the first insertion's place)
        self._unproven[connection] = self._clock()

    def unproven_ended(self, connection: ClosableConnection) -> None:
        self._unproven.pop(connection, None)

    def became_idle(self, connection: ClosableConnection) -> None:
        self._idle.pop(connection, None)
        self._idle[connection] = None  # now the most recently idle

    def closed(self, connection: ClosableConnection, *, for_another: bool = False) -> None:
        """A connection admitted has closed, or is closing: its slot is free (`for_another`:
        taken at once by the connection it was closed for, so the bound is not left)."""
        self._idle.pop(connection, None)
        self._unproven.pop(connection, None)
        self.count -= 1
        if self._episode is not None and not for_another and self.count <= self.limit * 0.9:
            episode, self._episode = self._episode, None
            log.info(
                "ingest.connections_ok",
                open=self.count,
                refused=episode.refused,
                idle_closed=episode.idle_closed,
                slow_closed=episode.slow_closed,
            )

    def close_slow_heads(self, keep: ClosableConnection) -> None:
        """Close connections whose head has been arriving for over SLOW_HEAD_S, oldest first
        (not `keep`), until the unfinished heads fit MAX_HEADS_BYTES again or none is left."""
        horizon = self._clock() - SLOW_HEAD_S
        for connection, began in list(self._unproven.items()):
            if not self.heads_over_budget or began > horizon:
                return
            if connection is not keep and connection.head_arriving:
                connection.close_slow(for_another=False)

    def _close_longest_idle(self) -> bool:
        while self._idle:
            oldest = next(iter(self._idle))
            del self._idle[oldest]  # busy now: it comes back when it is idle again
            if oldest.idle:
                self._begin_episode().idle_closed += 1
                oldest.close_idle()
                return True
        return False

    def _close_slowest_unproven(self) -> bool:
        """Close the connection receiving a head or an unauthenticated body for longest, if
        that is over SLOW_HEAD_S."""
        if not self._unproven:
            return False
        slowest, began = next(iter(self._unproven.items()))
        if self._clock() - began < SLOW_HEAD_S:
            return False
        self._begin_episode().slow_closed += 1
        slowest.close_slow()
        return True

    def _begin_episode(self) -> _Episode:
        if self._episode is None:
            self._episode = _Episode()
            log.warning(
                "ingest.connections_full",
                max_connections=self.limit,
                hint="closing idle connections, then ones sending a head or an unauthenticated "
                f"body for over {SLOW_HEAD_S:g} s (408), for new ones; refusing new ones (503) "
                "when there are none; the descriptor limit (ulimit -n) sets the bound",
            )
        return self._episode
