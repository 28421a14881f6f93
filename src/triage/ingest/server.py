"""aiohttp's HTTP server, made the gateway's. The hooks `Gateway.application` wires: the `Server`
header, `Expect: 100-continue`, and paths and methods no route takes. Every answer's status line
says HTTP/1.1 (`_Http11Writer`). And the connection
`GatewayRunner` gives each client, which applies before any handler runs what the modules
beside it decide:

- `connections.py`: how many connections stay open, and which one is closed for a new one;
- `framing.py`: requests read one head at a time, and which of them are not read at all;
- `bad_http.py`: what the answer and the log say about a request aiohttp cannot parse.

The connection itself bounds the bytes of a request head (aiohttp bounds each header line and
their number, not their sum), answers a head it refuses before it is whole (431 over
MAX_HEAD_BYTES; 408 trickled past the idle timeout, or closed at the bound for a new connection;
503 past the heads' budget) and then drops what the sender still sends for at most
REFUSED_LINGER_S before closing, so that a sender still sending reads the answer rather than a
reset, as it does after answering a request whose body it stopped reading partway (408 for a
body closed at the bound, 400 for chunks mostly framing or a bad chunk) or that the parser
refused from its head (400: a NUL in a header, a folded line, a Content-Length beside
Transfer-Encoding, with the body still coming); it ends a connection
at once after an answer given before its body was read (and after a CONNECT: it tunnels
nothing), and drops a client that does not read its answers. A sender that goes away in the
middle of its request (a reset, or its end of stream) is told to ingest/aborts.py: while its
head arrives, while its body does, or (a reset) before its answer is written. One that ends its
side after whole requests (a half-close) is still reading: they are answered, then the
connection closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from http import HTTPStatus
from typing import Any, cast

import structlog
from aiohttp import HttpVersion11, hdrs, web
from aiohttp.http_exceptions import BadHttpMethod, HttpProcessingError
from aiohttp.http_parser import HttpParser
from aiohttp.http_writer import StreamWriter
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import ERROR as REFUSED_REQUEST
from aiohttp.web_protocol import RequestHandler, _ErrInfo
from aiohttp.web_request import BaseRequest
from aiohttp.web_urldispatcher import _InfoDict
from multidict import CIMultiDict
from yarl import URL

from triage import request_head
from triage.ingest.aborts import SENDER, SOURCE, Abort
from triage.ingest.bad_http import answer_error, refused_status
from triage.ingest.connections import OpenConnections, connection_limit
from triage.ingest.framing import HeadByHead, mostly_framing, refuse_faulty_framing
from triage.linebudget import LineBudget
from triage.metrics import Metrics

log = structlog.get_logger(__name__)

CONTINUE = "100-continue"
#: What every answer's `Server` header says: aiohttp's names its version and Python's, which
#: tells any client what advisories to look up.
SERVER = "triage-ingest"
#: On every answer, as on the operators' port's: the JSON may quote what a sender wrote (a
#: charset, a field name), and no browser is to read it as anything but JSON.
NOSNIFF = ("X-Content-Type-Options", "nosniff")
#: On every answer, as on the operators' port's: a cache in front must keep none. A 404, 405
#: or 501 is cacheable by default (RFC 9110 15.1), and a cache that kept one (a source's path
#: while the source was off) would answer a sender's later alerts itself, which are lost.
NO_STORE = ("Cache-Control", "no-store")
#: On every answer, as on the operators' port's that are no page: the gateway serves JSON
#: only, so a browser led to an answer runs nothing from it and frames it nowhere.
LOCKED_DOWN = (
    "Content-Security-Policy",
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
)


async def no_interim(request: web.Request) -> None:
    """aiohttp's default sends `100 Continue` before the handler runs, so a sender would send
    a body the head already condemns (too large, no credential). The gateway sends it itself."""


def expectations(request: web.BaseRequest) -> list[str]:
    """Each expectation the request's `Expect` headers name, in lower case: every header, each
    item of its list, empty items left out (RFC 9110 5.6.1), so `Expect:` sent blank asks
    nothing and `100-continue, 100-continue` is the one expectation."""
    values = request.headers.getall("Expect", ())
    return [item.strip().lower() for value in values for item in value.split(",") if item.strip()]


async def send_continue(request: web.Request) -> None:
    """`100 Continue`, when the sender waits for it before sending its body (HTTP/1.1 only)."""
    expected = expectations(request)
    continues = bool(expected) and all(item == CONTINUE for item in expected)
    if continues and request.version == HttpVersion11 and request.writer is not None:
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0  # the interim answer is not the answer's start


async def name_the_server(request: web.Request, response: web.StreamResponse) -> None:
    """Every answer's `Server`, `X-Content-Type-Options`, `Cache-Control` and
    `Content-Security-Policy` headers (on `on_response_prepare`)."""
    response.headers["Server"] = SERVER
    response.headers[NOSNIFF[0]] = NOSNIFF[1]
    response.headers[NO_STORE[0]] = NO_STORE[1]
    response.headers[LOCKED_DOWN[0]] = LOCKED_DOWN[1]
    if getattr(request.protocol, "closing", False):
        # (The hook runs once aiohttp has written its Connection header: it is set here.)
        response.force_close()
        response.headers[hdrs.CONNECTION] = "close"


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


class ServerWide(web.Resource):
    """The resource `OPTIONS *` resolves to (RFC 9112 3.2.4: the server as a whole, not a
    path). aiohttp's router takes paths only, and a request on none of its routes has its
    `Expect` judged by aiohttp's own handler, which refuses one it does not meet in plain text
    quoting it: this route's handler is the gateway's (`no_interim`), and its 417 the
    gateway's JSON."""

    TARGET = "*"

    @property
    def canonical(self) -> str:
        return self.TARGET

    def _match(self, path: str) -> dict[str, str] | None:
        return {} if path == self.TARGET else None

    def raw_match(self, path: str) -> bool:
        return path == self.TARGET

    def get_info(self) -> _InfoDict:
        return {"path": self.TARGET}

    def url_for(self) -> URL:  # type: ignore[override]
        return URL.build(path=self.TARGET, encoded=True)

    def add_prefix(self, prefix: str) -> None:
        raise NotImplementedError("`*` names the server, under no prefix")


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
        # An answer given before its body was read (an early refusal) closes the connection;
        # aiohttp first reads and drops what the sender still sends, 10 s by default, so that
        # it reads the answer rather than a reset. The refused connection's second is enough.
        kwargs.setdefault("lingering_time", REFUSED_LINGER_S)
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
        cast("_Server", server).open_connections = self.connections
        server.request_factory = _answering_in_http_11(server.request_factory)
        return server


class _Http11Writer(StreamWriter):
    """aiohttp's writer of an answer, its status line saying HTTP/1.1 whatever the request's
    version: RFC 9110 6.2 has a server send the highest version it speaks whose major version
    the request's has, as the operators' port does. aiohttp writes the request's, and HTTP/1.0
    for a head its parser refused, whatever it said. Only the line changes: an HTTP/1.0
    client's answer is framed as aiohttp frames it for one (never chunked), and says
    `Connection: close` when aiohttp closes the connection after it."""

    async def write_headers(self, status_line: str, headers: CIMultiDict[str]) -> None:
        if status_line.startswith("HTTP/1.0 "):
            status_line = "HTTP/1.1 " + status_line.removeprefix("HTTP/1.0 ")
            # (aiohttp names keep-alive for an HTTP/1.0 client that asked for it.)
            headers.setdefault(hdrs.CONNECTION, "close")
        await super().write_headers(status_line, headers)


def _answering_in_http_11(make_request: Any) -> Any:
    """aiohttp's request factory, each request's answer written by an `_Http11Writer`, and a
    request refused from its head made of the method it named (`_Connection.refused_method`)."""

    def made(message: Any, payload: Any, protocol: Any, writer: Any, *args: Any) -> Any:
        if type(writer) is StreamWriter:
            writer.__class__ = _Http11Writer
        refused_method = getattr(protocol, "refused_method", None)
        if message is REFUSED_REQUEST and refused_method is not None:
            # aiohttp answers a request refused from its head as one of method UNKNOWN: it is
            # answered as the method its request line named, so a HEAD's answer carries no
            # content (RFC 9110 9.3.2), which its client would read as the next answer.
            message = message._replace(method=refused_method)
        return make_request(message, payload, protocol, writer, *args)

    return made


class _Server(web.Server):
    """aiohttp's server, making the gateway's connections, all counted by one
    `OpenConnections` (set by `GatewayRunner`)."""

    open_connections: OpenConnections

    def __call__(self) -> RequestHandler:
        return _Connection(self, self.open_connections, loop=self._loop, **self._kwargs)


def _answer(status: int, error: str, *headers: str, head_only: bool = False) -> bytes:
    """A whole answer that closes the connection, written straight to its transport; without
    its content (`head_only`) for a HEAD request (RFC 9110 9.3.2)."""
    body = json.dumps({"error": error})
    lines = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        "Content-Type: application/json; charset=utf-8",
        f"Server: {SERVER}",
        f"{NOSNIFF[0]}: {NOSNIFF[1]}",
        f"{NO_STORE[0]}: {NO_STORE[1]}",
        f"{LOCKED_DOWN[0]}: {LOCKED_DOWN[1]}",
        "Connection: close",
        f"Content-Length: {len(body)}",
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n" + ("" if head_only else body)).encode()


#: The answer to a connection beyond the bound, written before anything is read from it.
_FULL = _answer(503, "too many open connections", "Retry-After: 1")
#: How long a refused connection reads and drops what its client sends, so that the client
#: reads the 503 rather than a reset, and how many may do so at once (in `FD_RESERVE`); past
#: that, a refused connection is closed at once.
REFUSED_LINGER_S = 1.0
MAX_REFUSING = 64

#: Bytes a request head may take in all. aiohttp bounds each line (8,190 bytes) and the number
#: of headers (128), not their sum, so an unfinished head of long headers would hold megabytes
#: per connection until the idle timeout. 64 KiB is also what an ALB lets through.
MAX_HEAD_BYTES = request_head.MAX_HEAD_BYTES

#: How long an answer may wait for its client to take it. A client that pipelines requests and
#: never reads the answers fills the socket's buffers and then aiohttp's, where the answer waits
#: without end: the connection is held past every timeout (none runs while a request is in
#: hand). Answers are small: an honest client, however slow its link, never leaves 64 KiB of
#: them unread beyond the kernel's buffers for this long.
WRITE_STALL_S = 10.0
#: How long `sender_gone` waits for a closing transport's loss to be reported (asyncio
#: reports it on the loop's next turn).
LOSS_REPORT_S = 1.0
#: `ingest.client_not_reading` lines a second, at most (anyone can cause one).
_NOT_READING_LINES = LineBudget(10, 1.0, name="ingest.client_not_reading")
#: `ingest.head_timeout` lines a second, at most (anyone can trickle a head).
_HEAD_TIMEOUT_LINES = LineBudget(10, 1.0, name="ingest.head_timeout")
#: `ingest.error` lines a second, at most, for a connection whose handling failed outside any
#: request's handler (a request may be what caused it).
_CONNECTION_ERROR_LINES = LineBudget(10, 1.0, name="ingest.error")


class ChunksTooSmall(HttpProcessingError):
    """Raised reading a chunked body that is mostly framing (see `framing.MAX_FRAMING`)."""


class BadChunkedBody(HttpProcessingError):
    """Raised reading a chunked body the parser failed on midway (a bad chunk size, …); its
    message says what was wrong, as the parser said it."""


class SlowBody(HttpProcessingError):
    """Raised reading a body not yet authenticated whose connection was closed for a new one
    at the bound (see `connections.SLOW_HEAD_S`)."""


async def sender_gone(request: web.BaseRequest) -> bool:
    """Whether the client that sent `request` has gone away (a reset, its end of stream), asked
    once reading its body failed: a body it left unfinished is its connection's
    `ingest.aborted` line (ingest/aborts.py). A write that met the reset (`100 Continue`) finds
    the transport closing before the connection's loss is reported: that is waited for, at
    most LOSS_REPORT_S, to say whether the client went."""
    connection = request.protocol
    if not isinstance(connection, _Connection):
        return False
    transport = connection.transport
    if connection.sender_went is None and transport is not None and transport.is_closing():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(LOSS_REPORT_S):
                await connection.lost.wait()
    return connection.sender_went is not None


@contextlib.asynccontextmanager
async def reading_unproven(request: web.BaseRequest, *, proven: bool) -> AsyncIterator[None]:
    """While a body is read before its sender can be authenticated (not `proven`: a signed
    one's, whose signature covers it), its connection counts among those the bound may close when
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


class _Connection(RequestHandler):
    """aiohttp's connection, holding one of `OpenConnections`' slots (or refused one), parsing
    one head at a time, bounding what a head and a chunked body take, and answering what it
    refuses the gateway's way."""

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
    #: Answered before its request was read (refused at the bound, or its head refused), and
    #: dropping what the client still sends before closing (`_linger`).
    _lingering = False
    #: Whether the body being received is chunked, and the bytes it took on the wire so far.
    _chunked = False
    _body_wire = 0
    #: While an answer waits for the client to read (or the connection lingers): the timer
    #: that closes the connection.
    _stall: asyncio.TimerHandle | None = None
    #: The body being read before it can be authenticated, if any.
    _unproven_body: StreamReader | None = None
    #: A request whose framing is faulty was parsed: nothing after it is.
    _framing_faulty = False
    #: While aiohttp's idle timer decides: a close it makes then is the idle timeout's.
    _idle_timer_closing = False
    #: The body being received was ended where it was (`_end_body`) before its answer.
    _body_cut = False
    #: The client's address, as the connection was made.
    _peer = "unknown"
    #: How the client went away, once it has: `closed` (its end of stream) or `reset`.
    sender_went: str | None = None
    #: An answer that could not be written before the client was known gone (`_answer_lost`).
    _lost_answer: Abort | None = None
    #: The client ended its side after whole requests: they are answered, then it is closed.
    _half_closed = False
    #: The method of the request refused from its head (the parser's refusal, a faulty
    #: framing), once its request line was read and passed (`HeadByHead.method_read`): it is
    #: answered as a request of that method (`_answering_in_http_11`).
    refused_method: str | None = None

    def __init__(self, manager: web.Server, opened: OpenConnections, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        # Typed as aiohttp's parser, which it stands in for (it passes on all but feed_data).
        self._parser = cast("HttpParser[Any]", HeadByHead(self._parser))
        self._open = opened
        #: Set once the connection is lost (`sender_went` then says whether its client went).
        self.lost = asyncio.Event()

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

    @property
    def closing(self) -> bool:
        """The connection closes once the request being answered is: its answer says so."""
        return self._close or self._force_close

    @property
    def head_arriving(self) -> bool:
        """Part of a request head has arrived, not all of it."""
        return self._head_bytes > 0

    # --- A slot at the bound: taken, refused, given up ---------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        if not self._open.admit(self):
            self._refuse(transport)
            return
        self._admitted = True
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and peer:
            self._peer = str(peer[0])
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
        """Answer 503 before reading a byte, then linger (`_linger`)."""
        self._refused = True
        self._force_close = True  # nothing that arrives is parsed
        transport.write(_FULL)
        if not self._linger(transport):
            transport.abort()  # a flood, or a client that does not read: no wait

    def _linger(self, transport: asyncio.Transport) -> bool:
        """The answer written, end our side and drop what the client still sends until it ends
        its own, for at most REFUSED_LINGER_S: closing with its bytes unread would reset the
        connection, and a client still sending would see the reset instead of the answer.
        False, lingering not begun, when MAX_REFUSING already linger (a flood) or the answer
        waits to be written (a client that does not read)."""
        opened = self._open
        if opened.refusing >= MAX_REFUSING or transport.get_write_buffer_size():
            return False
        opened.refusing += 1
        self._lingering = True
        transport.write_eof()  # the answer is whole; the client's end of stream closes it
        self._cancel_stall()
        self._stall = self._loop.call_later(REFUSED_LINGER_S, transport.close)
        return True

    # asyncio's protocol returns whether to keep the transport open; aiohttp types it None.
    def eof_received(self) -> bool:  # type: ignore[override]
        """The client ended its side. After whole requests (`nc -N`, `shutdown(SHUT_WR)`, some
        proxies: HTTP/1.1 allows it) it is still reading: each is answered, then the connection
        closed (`_end_half_closed`). In the middle of a head or body, or on a transport that
        cannot stay half open (TLS), it has left: the connection closes at once, and what it
        left unfinished is its `ingest.aborted` line."""
        transport = self.transport
        if self._requests_whole() and transport is not None and transport.can_write_eof():
            self._half_closed = True
            return True  # the write side stays open for the answers
        self.sender_went = self.sender_went or "closed"
        super().eof_received()
        return False  # asyncio closes the transport

    def _requests_whole(self) -> bool:
        """Whether requests are in hand and every one of them has come whole: no head
        arriving, the last body all received."""
        body = self._body
        return (
            self._unanswered > 0
            and self._head_bytes == 0
            and (body is None or body.is_eof())
            and not self._lingering
        )

    def _end_half_closed(self) -> None:
        """After an answer to a client that ended its side: with no request left to answer,
        close the connection (aiohttp's request loop ends after this answer)."""
        if self._half_closed and not self._messages:
            self.close()

    def connection_lost(self, exc: BaseException | None) -> None:
        if self.sender_went is None and isinstance(exc, OSError):
            self.sender_went = "reset"  # (no exception: the gateway closed it itself)
        self.lost.set()
        self._report_cut()
        self._release_head()
        self._cancel_stall()
        if self._lingering:
            self._lingering = False
            self._open.refusing -= 1
        if self._refused:
            return  # refused at the bound: aiohttp never knew it
        self._leave()
        super().connection_lost(exc)

    def _report_cut(self) -> None:
        """Tell ingest/aborts.py, as the client goes, of the requests it left unfinished: a head
        arriving, and requests parsed behind the one in hand that will never be handled
        (pipelined); then of an answer it went away before (`_report_lost_answer`)."""
        went = self._went_unanswered()
        if went is None:
            return
        if self._head_bytes:
            self._open.aborts.record(Abort("head", went, self._peer, self._head_bytes))
        for message, body in self._messages:
            if not isinstance(message, _ErrInfo):  # (a parse failure's own line is written)
                cut = "answer" if body.is_eof() else "body"
                self._open.aborts.record(Abort(cut, went, self._peer, body.total_bytes))
        self._report_lost_answer()

    def _report_lost_answer(self) -> None:
        """Tell ingest/aborts.py of the answer not written for the client's going
        (`_answer_lost`), once it is known how it went."""
        went = self._went_unanswered()
        lost, self._lost_answer = self._lost_answer, None
        if went is not None and lost is not None:
            self._open.aborts.record(replace(lost, how=went))

    def _went_unanswered(self) -> str | None:
        """How the client went (`sender_went`), when that left something unanswered: None while
        it is there, when the gateway ended the connection, or when it was refused, or answered
        before its request was read (lingering)."""
        if self._refused or self._lingering:
            return None
        return self.sender_went

    def _leave(self, *, for_another: bool = False) -> None:
        if self._admitted:
            self._admitted = False
            self._open.closed(self, for_another=for_another)

    def close_idle(self) -> None:
        """Close this idle connection for a new one (its slot is free at once)."""
        self._leave(for_another=True)
        self.force_close()

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
        self._end_body(body, SlowBody(code=408, message="body not received in time"))

    def unproven_body(self, body: StreamReader) -> None:
        """`body` is being read before it can be authenticated (`reading_unproven`)."""
        self._unproven_body = body
        if self._admitted:
            self._open.unproven_began(self)

    def proven_body(self) -> None:
        """Reading the body `unproven_body` named has ended."""
        if self._unproven_body is not None:
            self._unproven_body = None
            self._open.unproven_ended(self)

    # --- Reading: heads, their framing, chunked bodies ---------------------------------------

    def data_received(self, data: bytes) -> None:
        """aiohttp parses `data`; then a head that came whole leaves the head bounds, bytes of
        a head still arriving are held against them, and bytes of a chunked body are counted
        against its framing."""
        if self._refused or self._framing_faulty or self._lingering:
            return  # dropped: the connection was answered before it was read, or will be closed
        awaiting_head = self._body is None or self._body.is_eof()
        queued = len(self._messages)
        super().data_received(data)
        if not awaiting_head and self._body_cut_short(queued):
            return
        self._check_parsed(queued)
        if any(isinstance(m, _ErrInfo) for m, _ in list(self._messages)[queued:]):
            # The parser refused this request: nothing after it is parsed (what still comes is
            # dropped), and its 400 is followed by a linger (`_linger_after_refused_parse`).
            self._framing_faulty = True
        if len(self._messages) > queued:  # a head came whole
            self._unanswered += len(self._messages) - queued
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

    def _check_parsed(self, first: int) -> None:
        """Check the requests parsed from `first` on: the first whose framing is faulty is
        refused and nothing after it is parsed, and one asking for an Upgrade the gateway
        declines closes its connection."""
        parser = cast("HeadByHead", self._parser)
        refused = refuse_faulty_framing(self._messages, first)
        if refused is not None:
            self.refused_method = refused.method
        elif parser.refused_method is not None:  # (nothing is parsed after the parser's refusal)
            self.refused_method = parser.refused_method
        if parser.trailered and not self._close:
            # Its request is answered `Connection: close` (`closing`), then the connection
            # closes: nothing after a trailer section is read (framing.HeadByHead.trailered).
            self.close()
        if refused is not None or parser.line_refused:
            # What still arrives is not parsed; the connection closes once this is answered
            # (not `close()`: the requests before it are answered first, this one too).
            self._framing_faulty = True
        if len(self._messages) > first:
            message, body = self._messages[-1]
            if isinstance(message, _ErrInfo) or not message.upgrade:
                return
            if message.method == "CONNECT":
                # What follows a CONNECT is a tunnel's bytes, or a body a proxy in front counted
                # by a Content-Length the parser ignores (RFC 9110: a CONNECT has none). The
                # gateway tunnels nothing: its answer closes the connection, and none of those
                # bytes is read as a request.
                self._messages[-1] = (message._replace(should_close=True), body)
                return
            if self._upgraded:
                return
            # The parser drops what came in the same read after a request asking for an
            # Upgrade it does not take (h2c, …): pipelined requests would go unanswered until
            # the idle timeout. Answered with `Connection: close`, their sender knows at once.
            self._messages[-1] = (message._replace(should_close=True), body)

    def _body_cut_short(self, queued: int) -> bool:
        """Whether the parser failed in the middle of the body being received (a bad chunk
        size, …). aiohttp queues the failure as a request of its own, to be answered 400 only
        once the body's handler ends, while that handler waits for the rest of the body until
        its time is out (408). The failure is the body's: its reader fails at once (a 400 from
        its handler, `bad request: …`), and the connection closes once it is answered."""
        body = self._body
        if body is None or body.is_eof() or len(self._messages) == queued:
            return False
        failure = self._messages[-1][0]
        if not isinstance(failure, _ErrInfo):
            return False
        self._messages.pop()
        self._refuse_body(body, BadChunkedBody(code=400, message=failure.message))
        return True

    def _count_framing(self, size: int) -> None:
        """Refuse a chunked body once it is mostly framing (`framing.mostly_framing`): its
        reader fails (a 400 from the handler that reads it), or, when its request was answered
        already, it ends, with one ingest.bad_http line."""
        body = self._body
        assert body is not None
        self._body_wire += size
        if body.is_eof() or not mostly_framing(self._body_wire, body.total_bytes):
            return
        self._chunked = False
        self._refuse_body(
            body, ChunksTooSmall(code=400, message="chunks too small for their framing")
        )

    def _refuse_body(self, body: StreamReader, error: HttpProcessingError) -> None:
        """Refuse the body being received for `error`: its reader fails (its handler answers
        400), or, when its request was answered already, it ends, with one ingest.bad_http
        line."""
        if self._unanswered:
            # Its handler (running, or about to) refuses it: its ingest.refused line says why.
            self._end_body(body, error)
        else:
            self.logger.error("Error handling request", exc_info=error)  # one ingest.bad_http
            self._end_body(body, None)

    def _end_body(self, body: StreamReader, error: HttpProcessingError | None) -> None:
        """End `body` where it is (failing its reader with `error`, if any), parse nothing
        more, and close the connection once its requests are answered."""
        if error is not None:
            body.set_exception(error)
            self._body_cut = bool(self._unanswered)
        body.feed_eof()  # no lingering read of the rest
        self.close()
        if self.transport is not None:
            self.transport.pause_reading()

    def _hold_head(self, size: int) -> None:
        """Count `size` more bytes of the head arriving, against MAX_HEAD_BYTES and, with every
        connection's, against the heads' budget (`connections.MAX_HEADS_BYTES`)."""
        if self._head_bytes == 0:
            self._open.unproven_began(self)
        self._head_bytes += size
        self._open.head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES:
            self._refuse_head(431, f"request head over {MAX_HEAD_BYTES} bytes")
            return
        if self._open.heads_over_budget:
            # The heads slowest to arrive go first (slowloris), then this one.
            self._open.close_slow_heads(keep=self)
        if self._open.heads_over_budget:
            self._refuse_head(503, "too many request heads arriving at once")

    def _process_keepalive(self) -> None:
        """aiohttp's idle timer: it runs from the connection's start (or its last answer) until
        a whole head has come, and closes the connection when it runs out. A head still
        arriving then (trickled, slowloris) is answered 408 before the close (`force_close`)
        and gets one line saying so; an idle connection is closed silently."""
        head_bytes, open_before = self._head_bytes, not self._force_close
        self._idle_timer_closing = True
        try:
            super()._process_keepalive()
        finally:
            self._idle_timer_closing = False
        if head_bytes and open_before and self._force_close and _HEAD_TIMEOUT_LINES.admit():
            log.warning(
                "ingest.head_timeout", head_bytes=head_bytes, waited_s=self.keepalive_timeout
            )

    def force_close(self) -> None:
        if self._idle_timer_closing and self._head_bytes and self.transport is not None:
            # The sender reads why its connection ends (RFC 9110 15.5.9), not a bare close.
            head_only = self._head_request_arriving()
            self._release_head()
            self._open.answered(408)
            reason = "request head not received in time"
            self._answer_and_close(_answer(408, reason, head_only=head_only))
            return
        super().force_close()

    def _release_head(self) -> None:
        """The head arriving is whole, refused, or gone: its bytes no longer count."""
        if self._head_bytes:
            self._open.unproven_ended(self)
        self._open.head_bytes -= self._head_bytes
        self._head_bytes = 0

    def _refuse_head(self, status: int, reason: str) -> None:
        """Answer `status` and close, the head unfinished: over MAX_HEAD_BYTES (431), too slow
        to arrive when slots run short (408), or past the heads' budget with the others (503,
        Retry-After: 1)."""
        head_only = self._head_request_arriving()
        self._release_head()
        error = HttpProcessingError(code=status, message=reason)
        self.logger.error("Error handling request", exc_info=error)  # one ingest.bad_http line
        self._open.answered(status)
        if status == 431:
            answer = _answer(status, f"bad request: {reason}", head_only=head_only)
        elif status == 503:
            answer = _answer(status, reason, "Retry-After: 1", head_only=head_only)
        else:
            answer = _answer(status, reason, head_only=head_only)
        self._answer_and_close(answer)

    def _head_request_arriving(self) -> bool:
        """Whether the head arriving is a HEAD request's (its request line read and passed):
        the answer refusing it carries no content (RFC 9110 9.3.2)."""
        parser = self._parser
        return isinstance(parser, HeadByHead) and parser.method_read() == "HEAD"

    def _answer_and_close(self, answer: bytes) -> None:
        """Write `answer` to a head refused before it was whole, parse nothing more, and close
        once the sender has read it (`_linger`): the sender may still be sending its head."""
        transport = self.transport
        assert transport is not None
        transport.write(answer)
        if not self._linger(transport):
            self.force_close()  # the transport sends what it holds, then closes
            return
        # aiohttp's force_close, but for the transport's close, which the linger makes: the
        # request loop ends, and aiohttp reads nothing more.
        self._force_close = True
        if self._waiter:
            self._waiter.cancel()

    # --- Answering ----------------------------------------------------------------------------

    async def finish_response(
        self, request: BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        try:
            answered = await super().finish_response(request, resp, start_time)
            if answered[1]:  # the answer could not be written: the client is gone
                self._answer_lost(request, answered[0])
            self._end_unread(request, answered[0])
            if self._body_cut or self._refused_parse_answered(answered[0]):
                self._linger_after_cut_body()
            self._end_half_closed()
            return answered
        finally:
            # aiohttp parses what followed a declined Upgrade in there, not in data_received:
            # those requests are checked here, and were never counted in `_unanswered` (so it
            # never goes below 0).
            self._check_parsed(0)
            self._unanswered = max(0, self._unanswered - 1)
            if self.idle:
                self._open.became_idle(self)

    def _answer_lost(self, request: BaseRequest, response: web.StreamResponse) -> None:
        """The answer to `request` went unwritten, its client gone while its body arrived (cut
        `body`) or after (`answer`): reported now, or, when the connection's loss is still to
        come (a write found it first), then, once it says how the client went."""
        body = request.content
        self._lost_answer = Abort(
            "answer" if body.is_eof() else "body",
            self.sender_went or "reset",
            self._peer,
            body.total_bytes,
            source=request.get(SOURCE),
            request_id=response.headers.get("X-Request-Id"),
            status=response.status,
            expected_bytes=request.content_length,
            sender=request.get(SENDER),
        )
        if self.sender_went is not None:
            self._report_lost_answer()

    def _end_unread(self, request: BaseRequest, response: web.StreamResponse) -> None:
        """An answer that closes the connection before its request's body was read (an early
        refusal) ends the connection's sending side at once: the sender sees the end right
        after the answer, not once the lingering read of what it still sends is over."""
        transport = self.transport
        if response.keep_alive or request.content.is_eof() or transport is None:
            return
        if transport.can_write_eof() and not transport.is_closing():
            transport.write_eof()

    def _refused_parse_answered(self, response: web.StreamResponse) -> bool:
        """Whether `response` is the last answer on a connection whose framing is faulty (the
        parser refused a request, or `refuse_faulty_framing` did), and closes it. Its sender
        may still be sending that request's body: closing with those bytes unread would reset
        the connection, and the sender would read the reset instead of the 400."""
        return self._framing_faulty and not self._messages and not response.keep_alive

    def _linger_after_cut_body(self) -> None:
        """The answer to a request whose body was ended partway, or that the parser refused,
        is written: the sender may still be sending that body, so the connection lingers
        (`_linger`) instead of closing at once, reading again (`_end_body` paused it) only to
        drop what arrives."""
        transport = self.transport
        if transport is None or transport.is_closing() or not transport.can_write_eof():
            return
        if self._linger(transport):
            transport.resume_reading()
            # The linger closes it: aiohttp's request loop, ending now, must not.
            self.transport = None

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        # aiohttp answers every parse error 400: a line bound met is 414 or 431 (bad_http).
        status = refused_status(status, exc)
        # aiohttp's own handle_error logs it (BadHttpLines turns that into one ingest.bad_http
        # line) and raises if an answer was already started; only its body is replaced.
        super().handle_error(request, status, exc, message)
        if self._request_count == 1 and isinstance(exc, BadHttpMethod):
            # aiohttp logs a connection's first request that is not HTTP (TLS bytes, a port
            # scan) at DEBUG only, so it would have no line: BadHttpLines bounds them anyway.
            self.logger.warning("Error handling request", exc_info=exc)
        response = web.Response(
            status=status,
            text=json.dumps({"error": answer_error(status, exc)}),
            content_type="application/json",
        )
        response.headers["Server"] = SERVER
        response.headers[NOSNIFF[0]] = NOSNIFF[1]
        response.headers[NO_STORE[0]] = NO_STORE[1]
        response.headers[LOCKED_DOWN[0]] = LOCKED_DOWN[1]
        response.force_close()
        self._open.answered(status)
        return response

    # --- A client that does not read its answers ---------------------------------------------

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
