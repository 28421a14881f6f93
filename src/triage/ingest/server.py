"""What aiohttp's HTTP server does on its own, made the gateway's: its answer to a request it
cannot parse, the log line for it, `Expect: 100-continue`, the `Server` header, paths and
methods no route takes (`Gateway.application` wires them), how many bytes of unfinished
request heads it holds (aiohttp bounds each header line and their number, not their sum), and
how many connections it keeps open (aiohttp takes any number: each costs a descriptor and
~10 KiB, so idle ones alone could exhaust either).

At the connection bound the gateway does what nginx does when its `worker_connections` run
short: it closes the connection idle longest (between requests, or opened and silent: HTTP lets
a server close an idle connection at any time, and clients open a new one). When none is idle,
it answers `408` and closes the connection that has been sending what no credential vouches for
yet longest, once that is over `SLOW_HEAD_S`: a request head, or a body read before it can be
authenticated (Sentry's). A sender trickling either holds its slot (slowloris: the idle timeout
alone let 4,096 heads, opened again every 75 s, hold every slot). Otherwise it answers the new
connection `503` with `Retry-After: 1` without reading it and closes it (as uvicorn's
`limit_concurrency` and the daemon's endpoint port do), so a flood costs a descriptor for an
instant only. One warning when the bound is first reached, one line with the counts when it is
left; each refused connection counts as a `503` in `IngestRequests`.

aiohttp answers an unparsable request (a control character in a header, a bad chunk size, a
body after an HTTP/1.0 head without a length, …) with a plain-text 400 that quotes the offending
bytes: an `Authorization` header with its token, a slice of the body. Senders such as
Alertmanager write a failed webhook's answer to their own logs, so the quote would carry the
token there. Here the answer is a short JSON reason naming what was wrong (`BadHttpLines` logs
it the same way), and never the bytes.

aiohttp also answers a whole read 400 when the parser fails after a request that came whole in
it, and that request is lost: garbage pipelined behind an alert, or any byte after a request
with `Connection: close` (llhttp refuses it, though RFC 9112 9.6 has a server simply read
nothing more). The parser is fed one head at a time (`HeadByHead`): the request is answered,
what follows a closing request is ignored, and anything else after it is answered 400.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from http import HTTPStatus
from resource import RLIM_INFINITY, RLIMIT_NOFILE, getrlimit
from typing import Any, cast

import structlog
from aiohttp import HttpVersion10, HttpVersion11, web
from aiohttp.http_exceptions import BadHttpMethod, HttpProcessingError, InvalidURLError
from aiohttp.http_parser import HttpParser, RawRequestMessage
from aiohttp.streams import EMPTY_PAYLOAD, StreamReader
from aiohttp.web_protocol import RequestHandler, _ErrInfo
from aiohttp.web_request import BaseRequest
from yarl import URL

from triage.linebudget import LineBudget
from triage.metrics import Metrics
from triage.normalize.common import cut
from triage.redact import redact

log = structlog.get_logger(__name__)

CONTINUE = "100-continue"


async def no_interim(request: web.Request) -> None:
    """aiohttp's default sends `100 Continue` before the handler runs, so a sender would send
    a body the head already condemns (too large, no credential). The gateway sends it itself."""


#: What every answer's `Server` header says: aiohttp's names its version and Python's, which
#: tells any client what advisories to look up.
SERVER = "triage-ingest"


async def name_the_server(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Server"] = SERVER


async def unrouted_request(request: web.Request) -> web.StreamResponse:
    """The route of every path and method no other route takes: 404, or 405 naming the methods
    the path does take (the gateway's middleware answers either like any refusal). Its own
    route, unlike aiohttp's refusal, does not answer `Expect: 100-continue` first."""
    this = request.match_info.route.resource
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if resource is not this:
            allowed |= (await resource.resolve(request))[1]
    if allowed:
        raise web.HTTPMethodNotAllowed(request.method, allowed)
    raise web.HTTPNotFound()


async def send_continue(request: web.Request) -> None:
    """`100 Continue`, when the sender waits for it before sending its body (HTTP/1.1 only)."""
    expect = request.headers.get("Expect", "").strip().lower()
    if expect == CONTINUE and request.version == HttpVersion11 and request.writer is not None:
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0  # the interim answer is not the answer's start


#: Where aiohttp's parse error starts quoting the request: a colon, `b'`, or a quote that is
#: not an apostrophe inside a word ("Transfer-Encoding can't be present with Content-Length").
_QUOTED = re.compile(r"""[:]|\bb['"]|(?<![A-Za-z])['"]|['"](?![A-Za-z])""")
#: Header names aiohttp quotes from its own fixed set ("Duplicate 'Content-Length' header
#: found.", "Missing 'Host' header in request."): kept, without their quotes.
_NAMED_HEADER = re.compile(
    r"'(Content-Length|Content-Type|Content-Range|Content-Location|Transfer-Encoding|Host|"
    r"User-Agent|Server|ETag|Max-Forwards)'",
    re.IGNORECASE,
)


class BadHttpLines(logging.Filter):
    """aiohttp refuses a request it cannot parse (a control character in a header, data after
    the body it announced, …) before any handler sees it, and logs it as an ERROR whose
    traceback quotes the request's raw bytes: headers and body. This filter, on the `aiohttp.server` logger,
    replaces each such record by one `ingest.bad_http` warning naming what was wrong and never
    the bytes, at most `per_second` a second (anyone can send these)."""

    def __init__(self, per_second: int = 10, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.per_second = per_second
        self._lines = LineBudget(per_second, 1.0, clock=clock)

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, HttpProcessingError):
            return True
        if self._lines.admit():
            log.warning("ingest.bad_http", status=error.code, reason=what_was_wrong(error))
        return False


#: The parser's (llhttp's) own reasons for a request target it refuses; any other
#: InvalidURLError's message is the target itself, quoted by nothing.
_URL_REASONS = frozenset(
    {
        "Double @ in url",
        "Invalid char in url fragment start",
        "Invalid char in url path",
        "Invalid char in url query",
        "Invalid characters in url",
        "Unexpected char in url schema",
        "Unexpected char in url server",
        "Unexpected start char in url",
    }
)


def what_was_wrong(error: HttpProcessingError) -> str:
    """What aiohttp found wrong with a request, without the bytes it quotes after a colon or in
    quotes ("Got more than 8190 bytes when reading: b'…'", "Bad status line '…'"), or that are
    the whole message (a request target it cannot read: `POST *sess-id`)."""
    first_line = (error.message or type(error).__name__).splitlines()[0]
    first_line = _NAMED_HEADER.sub(r"\1", first_line)
    reason = _QUOTED.split(first_line, maxsplit=1)[0].strip() or type(error).__name__
    if isinstance(error, InvalidURLError) and reason not in _URL_REASONS:
        return "invalid request target"
    # Redacted before it is cut: a cut inside a credential leaves a piece no rule knows.
    return cut(redact(reason[:1200]), 120, ellipsis=True)


#: Connections the gateway keeps open at most, whatever the descriptor limit allows: ~10 KiB
#: each (measured idle, after a request), so 40 MiB of the task's 512 MiB; a load balancer in
#: front opens far fewer.
MAX_CONNECTIONS = 4096
#: Descriptors kept for everything else the process opens: SQS's and Secrets Manager's
#: connection pools, the endpoint port and its clients, logs, the listening sockets, and the
#: refused connections still being answered (MAX_REFUSING).
FD_RESERVE = 256


def connection_limit(max_connections: int = MAX_CONNECTIONS) -> int:
    """How many connections the gateway may keep open: `max_connections`, or fewer when the
    process's descriptor limit (`ulimit -n`; Fargate's default is 65,535) leaves less room
    beside `FD_RESERVE`."""
    soft, _ = getrlimit(RLIMIT_NOFILE)
    if soft == RLIM_INFINITY:
        return max_connections
    return max(1, min(max_connections, soft - FD_RESERVE))


class GatewayRunner(web.AppRunner):
    """`web.AppRunner` whose connections answer an unparsable request without quoting it, and
    that keeps at most `max_connections` of them open (refused ones count in `metrics`)."""

    def __init__(
        self,
        app: web.Application,
        *,
        max_connections: int | None = None,
        metrics: Metrics | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(app, **kwargs)
        self.max_connections = connection_limit() if max_connections is None else max_connections
        self._metrics = metrics or Metrics()
        #: The open connections, once `setup()` made the server.
        self.connections: OpenConnections | None = None

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # aiohttp has no setting for the class of its connections: the server that makes them
        # becomes the subclass below, which differs only in the one it makes.
        server.__class__ = _Server
        self.connections = OpenConnections(self.max_connections, self._metrics)
        server.__dict__["_open"] = self.connections
        return server


@dataclass(slots=True)
class _Heads:
    """Bytes of unfinished request heads held over all of one server's connections."""

    held_bytes: int = 0


class _Server(web.Server):
    def __call__(self) -> RequestHandler:
        heads = self.__dict__.setdefault("_heads", _Heads())
        opened: OpenConnections = self.__dict__["_open"]
        return _Connection(self, heads, opened, loop=self._loop, **self._kwargs)


def _answer(status: int, error: str, *headers: str) -> bytes:
    """A whole answer that closes the connection, written straight to its transport."""
    body = json.dumps({"error": error})
    lines = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        "Content-Type: application/json; charset=utf-8",
        f"Server: {SERVER}",
        "Connection: close",
        f"Content-Length: {len(body)}",
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


#: The answer to a connection beyond the bound, written before anything is read from it.
_FULL = _answer(503, "too many open connections", "Retry-After: 1")
#: How long a refused connection reads and drops what its client sends, so that the client
#: reads the 503 rather than a reset, and how many may do so at once (part of FD_RESERVE); past
#: that, a refused connection is closed at once.
REFUSED_LINGER_S = 1.0
MAX_REFUSING = 64


#: At the connection bound with none idle, a request head (or a body not yet authenticated)
#: that has been arriving this long is closed (408) for a new connection, the oldest first.
#: Webhook senders write a head in one packet; one still arriving after seconds is a sender
#: holding its slot (slowloris), and only when slots run short does it lose it
#: (TRIAGE_INGEST_IDLE_TIMEOUT_S, and the body timeout, bound it otherwise).
SLOW_HEAD_S = 2.0


class OpenConnections:
    """The connections of one server that hold a descriptor, at most `limit` of them, the idle
    ones among them, longest idle first, and those receiving what no credential vouches for
    yet, oldest first: the ones to close, in that order, when a new one needs room."""

    def __init__(
        self, limit: int, metrics: Metrics, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.count = 0
        #: Refused connections still reading what their client sends, beyond `limit`.
        self.refusing = 0
        self._metrics = metrics
        #: Connections that were idle when last seen, in the order they became so (a dict keeps
        #: insertion order): each is checked again before it is closed.
        self._idle: dict[_Connection, None] = {}
        #: Connections receiving a request head, or a body before it can be authenticated, by
        #: when that began (oldest first, as a dict keeps insertion order).
        self._unproven: dict[_Connection, float] = {}
        self._clock = clock
        #: While the bound is reached: connections refused, idle ones closed, and slow ones
        #: (a head, or a body not yet authenticated) closed since.
        self._episode: list[int] | None = None

    def admit(self, connection: _Connection) -> bool:
        """Whether a new connection may stay: there is room, or an idle one, or else one slow
        to send what would authenticate it, was closed for it."""
        full = self.count >= self.limit
        if full and not self._close_longest_idle() and not self._close_slowest_unproven():
            self._begin_episode()[0] += 1
            self.answered(503)
            return False
        self.count += 1
        self._idle[connection] = None
        return True

    def answered(self, status: int) -> None:
        """Count an answer given before any handler ran (no source known): `IngestRequests`
        counts every answer, and these lines are bounded, so a flood shows only here."""
        self._metrics.incr("IngestRequests", source="unknown", status=str(status))

    def unproven_began(self, connection: _Connection) -> None:
        """`connection` began receiving a head, or a body not yet authenticated."""
        self._unproven.pop(connection, None)  # (a dict keeps the first insertion's place)
        self._unproven[connection] = self._clock()

    def unproven_ended(self, connection: _Connection) -> None:
        self._unproven.pop(connection, None)

    def became_idle(self, connection: _Connection) -> None:
        self._idle.pop(connection, None)
        self._idle[connection] = None  # now the most recently idle

    def closed(self, connection: _Connection, *, for_another: bool = False) -> None:
        """A connection admitted has closed, or is closing: its slot is free (`for_another`:
        taken at once by the connection it was closed for, so the bound is not left)."""
        self._idle.pop(connection, None)
        self._unproven.pop(connection, None)
        self.count -= 1
        if self._episode is not None and not for_another and self.count <= self.limit * 0.9:
            refused, idle_closed, slow_closed = self._episode
            self._episode = None
            log.info(
                "ingest.connections_ok",
                open=self.count,
                refused=refused,
                idle_closed=idle_closed,
                slow_closed=slow_closed,
            )

    def _close_longest_idle(self) -> bool:
        while self._idle:
            oldest = next(iter(self._idle))
            del self._idle[oldest]  # busy now: it comes back when it is idle again
            if oldest.idle:
                self._begin_episode()[1] += 1
                oldest.close_idle()
                return True
        return False

    def close_slow_heads(self, heads: _Heads, keep: _Connection) -> None:
        """Close connections whose head has been arriving for over SLOW_HEAD_S, oldest first
        (not `keep`), until the unfinished heads fit MAX_HEADS_BYTES again or none is left."""
        horizon = self._clock() - SLOW_HEAD_S
        for connection, began in list(self._unproven.items()):
            if heads.held_bytes <= MAX_HEADS_BYTES or began > horizon:
                return
            if connection is not keep and connection.head_arriving:
                connection.close_slow(for_another=False)

    def _close_slowest_unproven(self) -> bool:
        """Close the connection receiving a head or an unauthenticated body for longest, if
        that is over SLOW_HEAD_S."""
        if not self._unproven:
            return False
        slowest, began = next(iter(self._unproven.items()))
        if self._clock() - began < SLOW_HEAD_S:
            return False
        self._begin_episode()[2] += 1
        slowest.close_slow()
        return True

    def _begin_episode(self) -> list[int]:
        if self._episode is None:
            self._episode = [0, 0, 0]
            log.warning(
                "ingest.connections_full",
                max_connections=self.limit,
                hint="closing idle connections, then ones sending a head or an unauthenticated "
                f"body for over {SLOW_HEAD_S:g} s (408), for new ones; refusing new ones (503) "
                "when there are none; the descriptor limit (ulimit -n) sets the bound",
            )
        return self._episode


#: Bytes a request head may take in all. aiohttp bounds each line (8,190 bytes) and the number
#: of headers (128), not their sum: an unfinished head of 120 long headers held ~2 MB per
#: connection until the idle timeout. 64 KiB is also what an ALB lets through.
MAX_HEAD_BYTES = 64 * 1024
#: … and all unfinished heads together, over every connection (aiohttp takes any number of
#: them): past it, heads arriving for over SLOW_HEAD_S are closed (408), oldest first, and if
#: that is not room enough the connection adding to them is answered 503, so senders holding
#: heads open cannot make the gateway hold more (a whole head usually comes in one read, and
#: never counts here).
MAX_HEADS_BYTES = 16 * 1024 * 1024


#: A chunked body may take at most this many bytes on the wire per byte it holds (past
#: FRAMING_SLACK). Each chunk costs the parser the same whatever its size: a megabyte sent as
#: 1-byte chunks is 6 MB on the wire and ~0.8 s of the gateway's CPU (a megabyte in large
#: chunks: a few milliseconds), from a sender with no credential. Chunks of 8 bytes or more
#: pass; no sender's are smaller.
MAX_FRAMING = 2
FRAMING_SLACK = 64 * 1024


class ChunksTooSmall(HttpProcessingError):
    """Raised reading a chunked body that is mostly framing (see MAX_FRAMING)."""


class SlowBody(HttpProcessingError):
    """Raised reading a body not yet authenticated whose connection was closed for a new one
    at the bound (see SLOW_HEAD_S)."""


@contextlib.asynccontextmanager
async def reading_unproven(request: web.BaseRequest, *, proven: bool) -> AsyncIterator[None]:
    """While a body is read before its sender can be authenticated (not `proven`: Sentry's,
    whose signature covers it), its connection counts among those the bound may close when
    slow: reading it then raises SlowBody."""
    connection = request.protocol
    if proven or not isinstance(connection, _Connection):
        yield
        return
    connection.unproven_body(request.content)
    try:
        yield
    finally:
        connection.proven_body()


#: How long an answer may wait for its client to take it. A client that pipelines requests and
#: never reads the answers fills the socket's buffers and then aiohttp's, where the answer waits
#: without end: the connection is held past every timeout (none runs while a request is in
#: hand). Answers are small: an honest client, however slow its link, never leaves 64 KiB of
#: them unread beyond the kernel's buffers for this long.
WRITE_STALL_S = 10.0
#: `ingest.client_not_reading` lines a second, at most (anyone can cause one).
_NOT_READING_LINES = LineBudget(10, 1.0)
#: `ingest.error` lines a second, at most, for a connection whose handling failed outside any
#: request's handler (a request may be what caused it).
_CONNECTION_ERROR_LINES = LineBudget(10, 1.0)


def framing_fault(message: RawRequestMessage) -> tuple[int, str] | None:
    """Why a request whose head parsed is still not read, or None. The parser takes request
    lines of HTTP/0.9 and HTTP/2.0 and frames them as HTTP/1.1 (aiohttp would answer them in
    kind): the gateway speaks HTTP/1.0 and 1.1 only (505). RFC 9112 (6.1) has a server treat
    an HTTP/1.0 request with Transfer-Encoding as faultily framed: a proxy in front reading it
    as 1.0 frames its body by the end of the stream, not by its chunks (400). A target aiohttp
    cannot make a request of is 400 too (see `_target_readable`). (Reasons hold no colon:
    `what_was_wrong` cuts there.)"""
    if message.version not in (HttpVersion10, HttpVersion11):
        return 505, "HTTP version not supported (send HTTP/1.1)"
    if message.version == HttpVersion10 and "Transfer-Encoding" in message.headers:
        return 400, "Transfer-Encoding in an HTTP/1.0 request"
    if not _target_readable(message.url):
        return 400, "request target not readable"
    return None


def _target_readable(url: URL) -> bool:
    """Whether aiohttp can make a request of this target. It reads an absolute-form (or
    CONNECT's authority-form) target's host while making the request, outside every handler:
    a host that is not a name (`xn--`, not IDNA) raised there, and the connection was left
    open, unanswered, holding its slot for good."""
    if not url.absolute:
        return True
    try:
        url.host  # noqa: B018 (read for what it raises)
        url.relative()
    except (UnicodeError, ValueError):
        return False
    return True


#: Where a request head ends: no request reaches the gateway's parser with a bare LF (it
#: refuses one), so every head that completes ends here.
_HEAD_END = b"\r\n\r\n"

_Parsed = tuple[Any, ...]

#: Cuts made in one read, at most: far more requests than any sender pipelines in one packet.
#: Past them the rest of the read is fed whole, as aiohttp feeds it.
MAX_CUTS = 32


class HeadByHead:
    """The connection's request parser (llhttp, through aiohttp), fed one request head at a
    time. aiohttp feeds it each read whole, and when the parser fails on bytes after a request
    that came whole in the same read (garbage pipelined behind it, or anything after a request
    that asked to close: RFC 9112 9.6 has llhttp refuse it as "Data after `Connection:
    close`"), aiohttp answers 400 for the read and the good request is lost. Cut where heads
    end, each request is returned as the parser finishes its head, and a failure only after
    them. What follows a request that closes its connection, once that request is whole, is
    ignored as the RFC says (no answer, no line); any other failure is answered 400 after the
    requests before it. Cutting a read changes nothing else: the parser is a stream parser
    (and what follows a request asking for an Upgrade that is declined is dropped as aiohttp
    drops it, see `_check_framing`)."""

    def __init__(self, parser: Any) -> None:
        self._parser = parser
        #: The last bytes fed, for a head end that straddles two reads.
        self._last = b""
        #: A request that closes the connection came whole: nothing more is read.
        self.closed = False
        #: The body of the last request parsed, if it asks for an Upgrade.
        self._upgrade_body: StreamReader | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)

    def feed_data(self, data: bytes) -> tuple[Any, bool, bytes]:
        if self.closed:
            return (), False, b""
        messages: list[_Parsed] = []
        start = 0
        for end in _head_ends(self._last, data):
            try:
                parsed, upgraded, tail = self._parser.feed_data(data[start:end])
            except HttpProcessingError as exc:
                return self._failed_after(messages, exc), False, b""
            messages.extend(parsed)
            if upgraded:  # what follows is the new protocol's, kept aside by aiohttp
                return messages, True, tail + data[end:]
            if self._upgrade_declined(parsed):
                break  # the parser dropped what followed in its read: so is the rest of this
            start = end
        self._last = (self._last + data)[-(len(_HEAD_END) - 1) :]
        return messages, False, b""

    def _upgrade_declined(self, parsed: Any) -> bool:
        """Whether a request asking for an Upgrade the parser does not take has come whole: it
        stops there and drops the rest of what it was fed (aiohttp's way, which the connection
        answers with `Connection: close`)."""
        for message, body in parsed:
            self._upgrade_body = body if getattr(message, "upgrade", False) else None
        if self._upgrade_body is None or not self._upgrade_body.is_eof():
            return False
        self._upgrade_body = None
        return True

    def _failed_after(self, messages: list[_Parsed], exc: HttpProcessingError) -> list[_Parsed]:
        """The requests that came whole before the parse failure, then the failure as aiohttp
        answers it (400; a request whose body it cut short is part of it), unless the last of
        them closes the connection: what follows that is none of the gateway's business.
        Raises it when no request came whole before it, as aiohttp expects."""
        whole = [(message, body) for message, body in messages if body.is_eof()]
        if not whole:
            raise exc
        if getattr(whole[-1][0], "should_close", False):
            self.closed = True
            return whole
        return [*whole, (_ErrInfo(status=400, exc=exc, message=exc.message), EMPTY_PAYLOAD)]


def _head_ends(before: bytes, data: bytes) -> list[int]:
    """The offsets in `data` just past each place a head may end (`before`: the bytes fed
    before it, for an end that straddles the two), at most MAX_CUTS of them, then `len(data)`.
    Bodies are not told apart (a blank line in one is cut too, harmlessly), so the cuts are
    bounded: each costs a call into the parser, and a body of blank lines would otherwise buy
    a sender one per four bytes."""
    ends = []
    for began in range(1, len(_HEAD_END)):  # the end began in the bytes before
        if before.endswith(_HEAD_END[:began]) and data.startswith(_HEAD_END[began:]):
            ends.append(len(_HEAD_END) - began)
            break
    found = data.find(_HEAD_END)
    while found != -1 and len(ends) < MAX_CUTS:
        ends.append(found + len(_HEAD_END))
        found = data.find(_HEAD_END, found + 1)
    if not ends or ends[-1] != len(data):
        ends.append(len(data))
    return ends


class _Connection(RequestHandler):
    #: Bytes received towards the request head not yet whole.
    _head_bytes = 0
    #: The body of the last request parsed: until it has all arrived, bytes are its, not a head's.
    _body: StreamReader | None = None
    #: Requests whose head has arrived and whose answer has not been written yet.
    _unanswered = 0
    #: Whether this connection holds one of OpenConnections' slots …
    _admitted = False
    #: … or was refused one (aiohttp never sees it).
    _refused = False
    #: Refused, and reading what the client still sends before closing.
    _lingering = False
    #: Whether the body being received is chunked, and the bytes it took on the wire so far.
    _chunked = False
    _body_wire = 0
    #: While an answer waits for the client to read (or a refused connection lingers): the
    #: timer that closes the connection.
    _stall: asyncio.TimerHandle | None = None
    #: The body being read before it can be authenticated, if any.
    _unproven_body: StreamReader | None = None
    #: A request whose framing is faulty was parsed: nothing after it is.
    _framing_faulty = False

    def __init__(
        self, manager: web.Server, heads: _Heads, opened: OpenConnections, **kwargs: Any
    ) -> None:
        super().__init__(manager, **kwargs)
        # Typed as aiohttp's parser, which it stands in for (it passes on all but feed_data).
        self._parser = cast("HttpParser[Any]", HeadByHead(self._parser))
        self._heads = heads
        self._open = opened

    @property
    def idle(self) -> bool:
        """Open with no request in hand: none being answered or queued, no head arriving."""
        return (
            self._admitted
            and self._unanswered == 0
            and not self._messages
            and self._head_bytes == 0
            and self.transport is not None
            and not self._force_close
        )

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        if not self._open.admit(self):
            self._refuse(transport)
            return
        self._admitted = True
        super().connection_made(transport)
        if self._task_handler is not None:
            self._task_handler.add_done_callback(self._handling_ended)

    def _handling_ended(self, task: asyncio.Task[None]) -> None:
        """aiohttp's loop over this connection's requests ended. One that failed (an error
        outside every handler, such as making the request) left the connection open and
        unanswered, its slot held for good: it is closed, with one line."""
        if task.cancelled() or task.exception() is None:
            return
        if _CONNECTION_ERROR_LINES.admit():
            log.error("ingest.error", where="connection", error=type(task.exception()).__name__)
        if self.transport is not None:
            self.transport.abort()

    def _refuse(self, transport: asyncio.Transport) -> None:
        """Answer 503 before reading a byte, then drop what the client still sends until it
        closes, for at most REFUSED_LINGER_S: closing with its request unread would reset the
        connection, and the client would see the reset instead of the answer."""
        self._refused = True
        self._force_close = True  # nothing that arrives is parsed
        transport.write(_FULL)
        opened = self._open
        if opened.refusing >= MAX_REFUSING or transport.get_write_buffer_size():
            transport.abort()  # a flood, or a client that does not read: no wait
            return
        opened.refusing += 1
        self._lingering = True
        transport.write_eof()  # the answer is whole; the client's end of stream closes it
        self._stall = self._loop.call_later(REFUSED_LINGER_S, transport.close)

    def pause_writing(self) -> None:
        super().pause_writing()
        self._stall = self._loop.call_later(WRITE_STALL_S, self._not_reading)

    def resume_writing(self) -> None:
        self._cancel_stall()
        super().resume_writing()

    def _cancel_stall(self) -> None:
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None

    def _not_reading(self) -> None:
        """The client has not taken an answer for WRITE_STALL_S: it is dropped (the handler
        waiting to write ends with the connection)."""
        self._stall = None
        if _NOT_READING_LINES.admit():
            log.warning("ingest.client_not_reading", waited_s=WRITE_STALL_S)
        if self.transport is not None:
            self.transport.abort()

    def close_idle(self) -> None:
        """Close this idle connection for a new one (its slot is free at once)."""
        self._leave(for_another=True)
        self.force_close()

    @property
    def head_arriving(self) -> bool:
        return self._head_bytes > 0

    def close_slow(self, *, for_another: bool = True) -> None:
        """Close this connection, sending its head or an unauthenticated body for over
        SLOW_HEAD_S, for a new one (`for_another`: its slot is free at once) or for the room
        its head takes: a head is answered 408 here, a body fails its reader, whose handler
        answers 408."""
        self._leave(for_another=for_another)
        body = self._unproven_body
        if body is None:
            self._refuse_head(408, "request head not received in time")
            return
        self._unproven_body = None
        body.set_exception(SlowBody(code=408, message="body not received in time"))
        body.feed_eof()  # no lingering read of the rest
        self.close()  # nothing more is parsed; the connection closes once answered
        if self.transport is not None:
            self.transport.pause_reading()

    def unproven_body(self, body: StreamReader) -> None:
        self._unproven_body = body
        if self._admitted:
            self._open.unproven_began(self)

    def proven_body(self) -> None:
        if self._unproven_body is not None:
            self._unproven_body = None
            self._open.unproven_ended(self)

    def data_received(self, data: bytes) -> None:
        if self._refused or self._framing_faulty:
            return  # dropped: the connection was answered 503 unread, or will be closed
        awaiting_head = self._body is None or self._body.is_eof()
        parsed = len(self._messages)
        super().data_received(data)
        self._check_framing(parsed)
        if len(self._messages) > parsed:  # a head came whole
            self._unanswered += len(self._messages) - parsed
            message, self._body = self._messages[-1]
            self._chunked = bool(getattr(message, "chunked", False))
            self._body_wire = 0  # (what came with the head is not counted: the slack covers it)
            self._release_head()
        elif awaiting_head and not self._upgraded and self.transport is not None:
            # (After an Upgrade head, aiohttp keeps what follows aside and stops reading at
            # its buffer size: those bytes are not a head.)
            self._hold_head(len(data))
        elif self._chunked:
            self._count_framing(len(data))

    def _check_framing(self, first: int) -> None:
        """Check the requests parsed from `first` on: the first whose framing is faulty is
        refused, and one asking for an Upgrade the gateway declines closes its connection."""
        self._refuse_faulty_framing(first)
        if len(self._messages) > first:
            message, body = self._messages[-1]
            if isinstance(message, _ErrInfo) or not message.upgrade or self._upgraded:
                return
            # The parser drops what came in the same read after a request asking for an
            # Upgrade it does not take (h2c, …): pipelined requests would go unanswered until
            # the idle timeout. Answered with `Connection: close`, their sender knows at once.
            self._messages[-1] = (message._replace(should_close=True), body)

    def _refuse_faulty_framing(self, first: int) -> None:
        """Put a parse error (the answer `framing_fault` names) in place of the first request
        from `first` on whose framing is faulty, drop what was parsed after it, and parse
        nothing more: its body is not the gateway's to guess at, nor what follows."""
        for index in range(first, len(self._messages)):
            message = self._messages[index][0]
            fault = None if isinstance(message, _ErrInfo) else framing_fault(message)
            if fault is None:
                continue
            status, reason = fault
            error = HttpProcessingError(code=status, message=reason)
            self._messages[index] = (_ErrInfo(status, error, reason), EMPTY_PAYLOAD)
            while len(self._messages) > index + 1:
                self._messages.pop()
            # What still arrives is not parsed; the connection closes once this is answered
            # (not `close()`: the requests before it are answered first, this one too).
            self._framing_faulty = True
            return

    def _count_framing(self, size: int) -> None:
        """Refuse a chunked body once it took over MAX_FRAMING wire bytes per byte it holds:
        nothing more is parsed; its reader fails (a 400 from the handler that reads it), or,
        when its request was answered already, ends, with one ingest.bad_http line."""
        body = self._body
        assert body is not None
        self._body_wire += size
        if body.is_eof() or self._body_wire <= MAX_FRAMING * body.total_bytes + FRAMING_SLACK:
            return
        self._chunked = False
        error = ChunksTooSmall(code=400, message="chunks too small for their framing")
        if self._unanswered:
            # Its handler (running, or about to) refuses it: its ingest.refused line says why.
            body.set_exception(error)
        else:
            self.logger.error("Error handling request", exc_info=error)  # one ingest.bad_http
        body.feed_eof()  # no lingering read of the rest
        self.close()  # nothing more is parsed; the connection closes once answered
        if self.transport is not None:
            self.transport.pause_reading()

    async def finish_response(
        self, request: BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        try:
            return await super().finish_response(request, resp, start_time)
        finally:
            # (What followed a refused Upgrade is parsed in there, not in data_received.)
            self._check_framing(0)
            # (Never below 0: aiohttp parses what followed a refused Upgrade here, not in
            # data_received; those requests are then seen in `_messages` instead.)
            self._unanswered = max(0, self._unanswered - 1)
            if self.idle:
                self._open.became_idle(self)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._release_head()
        self._cancel_stall()
        if self._refused:
            if self._lingering:
                self._lingering = False
                self._open.refusing -= 1
            return  # refused at the bound: aiohttp never knew it
        self._leave()
        super().connection_lost(exc)

    def _leave(self, *, for_another: bool = False) -> None:
        if self._admitted:
            self._admitted = False
            self._open.closed(self, for_another=for_another)

    def _hold_head(self, size: int) -> None:
        if self._head_bytes == 0:
            self._open.unproven_began(self)
        self._head_bytes += size
        self._heads.held_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES:
            self._refuse_head(431, f"request head over {MAX_HEAD_BYTES} bytes")
            return
        if self._heads.held_bytes > MAX_HEADS_BYTES:
            # The heads slowest to arrive go first (slowloris), then this one.
            self._open.close_slow_heads(self._heads, keep=self)
        if self._heads.held_bytes > MAX_HEADS_BYTES:
            self._refuse_head(503, "too many request heads arriving at once")

    def _release_head(self) -> None:
        if self._head_bytes:
            self._open.unproven_ended(self)
        self._heads.held_bytes -= self._head_bytes
        self._head_bytes = 0

    def _refuse_head(self, status: int, reason: str) -> None:
        """Answer `status` and close, the head unfinished: over MAX_HEAD_BYTES (431), too slow
        to arrive when slots run short (408), or past MAX_HEADS_BYTES with the others (503,
        Retry-After: 1)."""
        self._release_head()
        error = HttpProcessingError(code=status, message=reason)
        self.logger.error("Error handling request", exc_info=error)  # one ingest.bad_http line
        self._open.answered(status)
        if status == 431:
            answer = _answer(status, f"bad request: {reason}")
        elif status == 503:
            answer = _answer(status, reason, "Retry-After: 1")
        else:
            answer = _answer(status, reason)
        assert self.transport is not None
        self.transport.write(answer)
        self.force_close()  # the transport sends what it holds, then closes

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        # aiohttp's own logs it (BadHttpLines turns that into one ingest.bad_http line) and
        # raises if an answer was already started; only its body is replaced.
        super().handle_error(request, status, exc, message)
        if self._request_count == 1 and isinstance(exc, BadHttpMethod):
            # aiohttp logs a connection's first request that is not HTTP (TLS bytes, a port
            # scan) at DEBUG only, so it would have no line: BadHttpLines bounds them anyway.
            self.logger.warning("Error handling request", exc_info=exc)
        if status == 500 or not isinstance(exc, HttpProcessingError):
            error = "internal error" if status >= 500 else "bad request"
        elif status < 500:
            error = f"bad request: {what_was_wrong(exc)}"
        else:
            error = what_was_wrong(exc)  # 505: not a bad request, a protocol not spoken
        response = web.Response(
            status=status,
            text=json.dumps({"error": error}),
            content_type="application/json",
        )
        response.headers["Server"] = SERVER
        response.force_close()
        self._open.answered(status)
        return response
