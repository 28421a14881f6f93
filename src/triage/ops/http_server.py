"""A small HTTP/1.1 server on asyncio streams that no client can use to starve the daemon.

One request per connection, read within fixed `Limits` into an immutable `Request`, routed by
method and path to an async handler that returns a `Response`. What keeps a client from holding
the process's file descriptors or filling its logs:

- one deadline per connection, from accept to the last byte of the answer (a client trickling
  its headers is cut at the deadline, however often it sends a byte); after an early answer
  (414, 431 …) the rest of the request is read and dropped for at most one more second;
- at most `max_connections` served at once, `max_per_peer` of them from one address; the next
  client is answered 503 without being read. Loopback clients have `loopback_reserve` slots
  more, in both counts, so the container's own health check is answered while the port is
  flooded, from elsewhere or from loopback;
- a bounded request line (414), header block (431) and body (413); anything malformed is a 400,
  never a traceback, as is a `Host` RFC 9112 3.2 refuses (`triage.request_head`: none in an
  HTTP/1.1 request, two, or one naming no host); a handler that raises is a 500; the request
  line is judged as the gateway judges it (`request_head.request_line_fault`: 400 for one not
  `method SP target SP version`, 501 for a method neither HTTP defines nor a route takes,
  `get` included, since methods are case-sensitive, and CONNECT, 505 for another version than
  HTTP/1.0 and 1.1), empty lines before it dropped; an absolute-form target
  (`http://host/path`) is served as its path, its host the request's; a percent-encoded
  unreserved character in a path is that character (`/%68ealthz` is `/healthz`, as the
  gateway's router reads it); `OPTIONS *` is answered
  200 naming the methods the routes take; a method HTTP defines that the path does not take is
  405 naming the path's. A line ended by a bare LF, two Content-Length headers, and a
  Transfer-Encoding that leaves the body's length unknown are 400, as the gateway's parser
  answers them; a chunked body is 501 (this port reads none); a GET or HEAD announcing a body
  is 400 on a path that takes it (404 or 405 elsewhere), its body not read, as on the gateway;
  an `Expect` other than 100-continue is 417 from the head;
- a request its handler refuses from the head alone (`HeadGuarded`: no token, another site's
  browser) is answered without `100 Continue` and without its body being read;
- one `http.refused` line per refused client, at most `log_burst` per `log_window_s`, then one
  `http.refused_suppressed` line with the count of the rest; the client's text is never echoed
  beyond a short, cleaned excerpt. `HttpRefused{reason}` counts every refusal.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from http import HTTPStatus

import structlog

from triage.errors import ConfigError
from triage.linebudget import LineBudget
from triage.metrics import Metrics
from triage.redact import Redactor
from triage.request_head import (
    LINE_FAULTS,
    MAX_HEAD_BYTES,
    MAX_HEADER_FIELDS,
    SERVER_WIDE,
    decode_unreserved,
    host_fault,
    names_head,
    not_implemented,
    read_target,
    request_line_fault,
)

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Limits:
    #: From accept to the answer written: generous for any honest client on a LAN.
    deadline_s: float = 5.0
    #: Connections served at once; each costs one descriptor for at most `deadline_s`.
    max_connections: int = 32
    #: … of them from one address: one client cannot take every slot.
    max_per_peer: int = 8
    #: Slots beyond `max_connections`, and beyond one address's `max_per_peer`, kept for
    #: loopback clients: the container's own health check (`triage health`) is answered
    #: while others fill the rest.
    loopback_reserve: int = 4
    #: Connections the kernel queues before we accept them (they cost us no descriptor until
    #: accepted; asyncio accepts at most this many per loop turn).
    backlog: int = 32
    #: Longest request line, and longest single header line (the stream reader's line limit).
    max_line: int = 8 * 1024
    max_header_bytes: int = MAX_HEAD_BYTES
    max_headers: int = MAX_HEADER_FIELDS
    max_body: int = 64 * 1024
    #: Refusal lines logged per window; the rest are summed up in one line.
    log_burst: int = 10
    log_window_s: float = 10.0


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: str
    #: Header names in lower case, in the order received.
    headers: tuple[tuple[str, str], ...]
    body: bytes
    peer: str

    def header(self, name: str) -> str | None:
        """The first value of header `name` (any case), or None."""
        name = name.lower()
        return next((v for k, v in self.headers if k == name), None)


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def text(cls, status: int, text: str, headers: tuple[tuple[str, str], ...] = ()) -> Response:
        return cls(status, text.encode(), headers=headers)

    @classmethod
    def json(cls, status: int, value: object) -> Response:
        return cls(status, json.dumps(value).encode() + b"\n", "application/json")

    def encode(self, *, head_only: bool = False) -> bytes:
        own_policy = any(name.lower() == "content-security-policy" for name, _ in self.headers)
        head = [
            f"HTTP/1.1 {self.status} {HTTPStatus(self.status).phrase}",
            f"Content-Type: {self.content_type}",
            f"Content-Length: {len(self.body)}",
            "Cache-Control: no-store",
            "X-Content-Type-Options: nosniff",
            *([] if own_policy else [f"Content-Security-Policy: {LOCKED_DOWN}"]),
            "Connection: close",
            *(f"{name}: {value}" for name, value in self.headers),
        ]
        return "\r\n".join(head).encode("latin-1") + b"\r\n\r\n" + (b"" if head_only else self.body)


#: The Content-Security-Policy of every answer that is no page (JSON, metrics, errors): a
#: browser led to one runs nothing from it, loads nothing for it, and frames it nowhere. The
#: status page sends its own.
LOCKED_DOWN = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"

Handler = Callable[[Request], Awaitable[Response]]
DEFAULT_LIMITS = Limits()


class HeadGuarded:
    """A handler whose request may be refused from its head alone (no credential, a browser on
    another site): the server then answers it without `100 Continue` and without reading its
    body, as the gateway does, so nobody the handler would refuse gets a body read.
    `refuses(head)` must say exactly when the handler refuses a request before reading its
    body; the server then calls the handler with the head alone (an empty body) for its
    answer and its log line."""

    def __init__(self, handler: Handler, refuses: Callable[[Request], bool]) -> None:
        self.handler, self.refuses = handler, refuses

    async def __call__(self, request: Request) -> Response:
        return await self.handler(request)


class _Refuse(Exception):
    """The request cannot be served: answer `status` (None: close without an answer). Control
    flow inside this module only; it never leaves `HttpServer`."""

    def __init__(self, reason: str, status: int | None, excerpt: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.status, self.excerpt = reason, status, excerpt
        #: Refused once its method was read, a HEAD: answered without content (RFC 9110 9.3.2).
        self.head_only = False


#: A header name: a token of any length (the line limit bounds it), as the gateway's parser reads
#: one.
_FIELD_NAME = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
#: Empty lines read and dropped before a request line, at most (RFC 9112 2.2: a server SHOULD
#: ignore at least one, as the gateway's parser does).
_EMPTY_LINES = 8
#: A request line's query string, cut from what a refusal logs: a client may put a
#: credential there (`?token=`), and logs never carry one.
_QUERY = re.compile(rb"\?[^ ]*")
_FIELD_VALUE = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")
_DIGITS = re.compile(r"[0-9]{1,12}")
#: After an early answer, how long and how much of the rest of a request is read and dropped.
_LINGER_S = 1.0
_LINGER_BYTES = 256 * 1024


class HttpServer:
    """Serves `routes` ({path: {method: handler}}) on host:port within `limits`."""

    def __init__(
        self,
        routes: Mapping[str, Mapping[str, Handler]],
        metrics: Metrics,
        host: str,
        port: int,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.routes = routes
        self.host, self.port, self.limits = host, port, limits
        self.refusals = RefusalLog(metrics, limits.log_burst, limits.log_window_s)
        self._server: asyncio.Server | None = None
        #: The task serving each open connection, and its writer.
        self._open: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        #: Connections being served per client address.
        self._per_host: Counter[str] = Counter()

    async def start(self) -> None:
        # The redactor compiles its searches at its first text (up to seconds of CPU on a busy
        # machine): here, on a thread, not on the loop at the first refusal's excerpt.
        await asyncio.to_thread(Redactor().text, "http starting")
        try:
            self._server = await asyncio.start_server(
                self._on_connect,
                self.host,
                self.port,
                limit=self.limits.max_line,
                backlog=self.limits.backlog,
            )
        except OSError as exc:
            raise ConfigError(
                f"TRIAGE_HTTP_PORT {self.port} on {self.host}: {exc.strerror}"
            ) from None
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("http.listening", host=self.host, port=self.port)

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in self._open.values():
                writer.transport.abort()
            # Their reads and writes fail at once; waiting for them means no connection task
            # is left to be cancelled when the loop closes (which Python 3.11 logs as an error).
            await asyncio.gather(*self._open, return_exceptions=True)
            await self._server.wait_closed()
        self.refusals.flush()

    @property
    def connections(self) -> int:
        return len(self._open)

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = _peer(writer)
        host = _host(writer)
        # The reserve lifts both caps for loopback: applied to the total only, the per-address
        # cap would spend it first (with the default host every client is 127.0.0.1).
        reserve = self.limits.loopback_reserve if _is_loopback(host) else 0
        crowded = self._per_host[host] >= self.limits.max_per_peer + reserve
        if len(self._open) >= self.limits.max_connections + reserve or crowded:
            # Answered without reading a byte, so a flood costs a descriptor for an instant only.
            self.refusals.refused("busy", peer, 503)
            writer.write(_BUSY)
            if writer.transport.get_write_buffer_size():
                writer.transport.abort()  # the client is not reading; don't wait for it
            else:
                writer.close()
            return
        task = asyncio.current_task()
        assert task is not None
        self._open[task] = writer
        self._per_host[host] += 1
        try:
            async with asyncio.timeout(self.limits.deadline_s):
                answered_early = await self._exchange(reader, writer, peer)
            if answered_early:
                await _linger(reader, writer)
        except TimeoutError:
            self.refusals.refused("deadline", peer, None)
        except OSError:
            pass  # the client went away; there is no one to answer
        except Exception as exc:  # a bug of ours: one line, not a traceback per connection
            self.refusals.refused("internal_error", peer, None, exc_info=exc)
        finally:
            del self._open[task]
            self._per_host[host] -= 1
            if not self._per_host[host]:
                del self._per_host[host]
            # Frees the descriptor of a connection still open, or closing with unsent bytes
            # a client does not read. Not once the connection is gone: aborting a transport
            # that has lost its loop raises inside asyncio (an error line per large answer).
            transport = writer.transport
            if not transport.is_closing() or transport.get_write_buffer_size():
                transport.abort()

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str
    ) -> bool:
        """Read, route and answer one request; True when it was refused before it was read
        to its end (the rest is still coming)."""
        try:
            head, waits = await _read_head(reader, self.limits, peer, self._methods())
            if head.method in _NO_CONTENT and _announces_body(head.headers):
                # Answered from its head (400, or the path's 404 / 405 as without a body),
                # the body it sends dropped by the linger.
                response = await self._dispatch(head, with_body=True)
                writer.write(response.encode(head_only=head.method == "HEAD"))
                return True
            try:
                length = _body_length(head.headers, self.limits)
            except _Refuse as refuse:
                refuse.head_only = head.method == "HEAD"
                raise
            if length and self._refused_from_head(head):
                # Answered from its head: the body it would send is dropped by the linger.
                response = await self._dispatch(head)
                writer.write(response.encode())
                return True
            if waits and length:
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            request = replace(head, body=await _read_exactly(reader, length))
        except _Refuse as refuse:
            # A connection closed before its first byte is a port probe (a load balancer's TCP
            # check), not a refusal worth a line.
            if refuse.reason != "empty":
                self.refusals.refused(refuse.reason, peer, refuse.status, excerpt=refuse.excerpt)
            if refuse.status is None:
                return False
            writer.write(_refusal_response(refuse.status).encode(head_only=refuse.head_only))
            return True
        response = await self._dispatch(request)
        writer.write(response.encode(head_only=request.method == "HEAD"))
        writer.close()
        await writer.wait_closed()
        return False

    async def _dispatch(self, request: Request, *, with_body: bool = False) -> Response:
        """The answer to `request`; `with_body`: a GET or HEAD whose head announces a body,
        which is refused (400) once its path is known to take it."""
        if not_implemented(request.method, self._methods()):
            # RFC 9110 9.1: methods are case-sensitive (`get` is not GET), and one the server
            # neither recognises nor implements is 501. The gateway agrees.
            self.refusals.refused(
                "not_implemented", request.peer, 501, method=client_excerpt(request.method)
            )
            return _error(501)
        if request.path == SERVER_WIDE:
            return self._server_options()
        methods = self.routes.get(request.path) or self._under(request.path)
        if methods is None:
            self.refusals.refused("not_found", request.peer, 404, path=client_excerpt(request.path))
            return _error(404)
        handler = methods.get("GET" if request.method == "HEAD" else request.method)
        if handler is None:
            allowed = ", ".join(sorted({*methods, *(["HEAD"] if "GET" in methods else [])}))
            self.refusals.refused(
                "method_not_allowed", request.peer, 405, method=client_excerpt(request.method)
            )
            return _error(405, (("Allow", allowed),))
        if with_body:
            # RFC 9110 9.3.1: a GET's content has no meaning, and a server may refuse it (a
            # proxy in front may not frame it as we do); the gateway refuses one too.
            self.refusals.refused("get_with_body", request.peer, 400)
            return _error(400)
        try:
            return await handler(request)
        except Exception as exc:
            self.refusals.refused("internal_error", request.peer, 500, exc_info=exc)
            return _error(500)

    def _methods(self) -> set[str]:
        """Every method the server takes on some path: its routes', HEAD beside GET, and
        OPTIONS (for `OPTIONS *`)."""
        methods = {method for by_method in self.routes.values() for method in by_method}
        if "GET" in methods:
            methods.add("HEAD")
        return methods | {"OPTIONS"}

    def _server_options(self) -> Response:
        """`OPTIONS *`: what the server as a whole does (RFC 9110 9.3.7), a ping that reads
        nothing and changes nothing: 200, `Allow` naming every method some path takes."""
        return Response(200, headers=(("Allow", ", ".join(sorted(self._methods()))),))

    def _refused_from_head(self, head: Request) -> bool:
        """Whether the handler `head` goes to refuses it before reading its body (a method no
        route takes has none to go to)."""
        if not_implemented(head.method, self._methods()):
            return True
        methods = self.routes.get(head.path) or self._under(head.path)
        handler = methods.get(head.method) if methods else None
        return isinstance(handler, HeadGuarded) and handler.refuses(head)

    def _under(self, path: str) -> Mapping[str, Handler] | None:
        """A route ending in `/*` serves every path one segment below it (`/api/v1/x/*`
        serves `/api/v1/x/abc`); the handler reads the segment from the path."""
        parent, slash, leaf = path.rpartition("/")
        if not slash or not leaf:
            return None
        return self.routes.get(f"{parent}/*")


async def _read_head(
    reader: asyncio.StreamReader, limits: Limits, peer: str, methods: set[str]
) -> tuple[Request, bool]:
    """Read one request's head within `limits`, as a Request without its body, and whether
    its client waits for `100 Continue` before sending that body; raises `_Refuse` naming
    what was wrong with it. Its request line is judged as the gateway judges one
    (`request_head.request_line_fault`, given the `methods` the server takes)."""
    too_long = _Refuse("uri_too_long", 414)
    line = await _read_line(reader, too_long, first=True)
    for _ in range(_EMPTY_LINES):
        if line:
            break
        line = await _read_line(reader, too_long)
    fault = request_line_fault(line, methods)
    if fault is not None:
        excerpt = (
            line.split(b" ", 1)[0] if fault == "not_implemented" else _QUERY.sub(b"?...", line)
        )
        refuse = _Refuse(
            "bad_request" if fault == "bad_request_line" else fault,
            LINE_FAULTS[fault],
            client_excerpt(excerpt.decode("latin-1")),
        )
        refuse.head_only = names_head(line)
        raise refuse
    method_bytes, written, version = line.split(b" ")
    method = method_bytes.decode("ascii")
    try:
        return await _read_fields(reader, limits, peer, method, written, version)
    except _Refuse as refuse:
        refuse.head_only = method == "HEAD"
        raise


async def _read_fields(
    reader: asyncio.StreamReader,
    limits: Limits,
    peer: str,
    method: str,
    written: bytes,
    version: bytes,
) -> tuple[Request, bool]:
    """The rest of `_read_head`, once its request line (`method`, the target as `written`, its
    `version`) passed."""
    read = read_target(written, method)
    assert read is not None  # (request_line_fault read it)
    target, authority = read
    path, _, query = target.partition("?")
    path = decode_unreserved(path)
    headers = await _read_headers(reader, limits)
    http_11 = version == b"HTTP/1.1"
    hosts = [value for name, value in headers if name == "host"]
    fault = host_fault(hosts, http_11=http_11)
    if fault is not None:
        raise _Refuse(fault, 400)
    if authority is not None:
        # RFC 9112 3.2.2: the target's host is the request's; the Host header is ignored.
        headers = (("host", authority), *((k, v) for k, v in headers if k != "host"))
    if _framing_faulty(headers, http_11=http_11):
        raise _Refuse("bad_framing", 400)
    waits = _waits_for_continue(headers, http_11=http_11)
    return Request(method, path, query, headers, b"", peer), waits


def _framing_faulty(headers: tuple[tuple[str, str], ...], *, http_11: bool) -> bool:
    """Whether a request's Transfer-Encoding leaves its body's length unknown, which RFC 9112
    6.3 has a server answer 400 (the gateway's parser does): chunked not its last coding, or
    more than once, or none named; beside a Content-Length; in an HTTP/1.0 request (6.1). A
    well-framed chunked body is 501 (`_body_length`): this port reads none."""
    values = [value for name, value in headers if name == "transfer-encoding"]
    if not values:
        return False
    codings = [c.strip(" \t").lower() for value in values for c in value.split(",")]
    lengths = any(name == "content-length" for name, _ in headers)
    return not http_11 or lengths or codings[-1:] != ["chunked"] or codings.count("chunked") > 1


def _waits_for_continue(headers: tuple[tuple[str, str], ...], *, http_11: bool) -> bool:
    """Whether the client waits for `100 Continue` before it sends its body (`Expect:
    100-continue`, which an HTTP/1.0 client cannot ask for). Any other expectation is refused
    (417) from the head: a client holding its body back until an answer the server never
    gives would wait out the connection's deadline and get none."""
    # An empty item (`Expect:` sent blank, as some clients write "no expectation") asks nothing.
    expected = [
        item.strip().lower()
        for name, value in headers
        if name == "expect"
        for item in value.split(",")
        if item.strip()
    ]
    if any(item != "100-continue" for item in expected):
        raise _Refuse("expectation_failed", 417)
    return bool(expected) and http_11


async def _read_headers(
    reader: asyncio.StreamReader, limits: Limits
) -> tuple[tuple[str, str], ...]:
    headers: list[tuple[str, str]] = []
    size = 0
    too_large = _Refuse("headers_too_large", 431)
    while line := await _read_line(reader, too_large):
        size += len(line) + 2
        if size > limits.max_header_bytes or len(headers) >= limits.max_headers:
            raise too_large
        name, colon, value = line.partition(b":")
        value = value.strip(b" \t")
        if not colon or not _FIELD_NAME.fullmatch(name) or not _FIELD_VALUE.fullmatch(value):
            raise _Refuse("bad_header", 400)
        headers.append((name.decode("ascii").lower(), value.decode("latin-1")))
    return tuple(headers)


#: Methods whose request carries no content (RFC 9110 9.3.1, 9.3.2): one that announces a body
#: is refused.
_NO_CONTENT = frozenset({"GET", "HEAD"})


def _announces_body(headers: tuple[tuple[str, str], ...]) -> bool:
    """Whether a head announces a body: a Transfer-Encoding, or one Content-Length of more
    than 0 (a malformed or repeated one is `_body_length`'s 400)."""
    if any(name == "transfer-encoding" for name, _ in headers):
        return True
    lengths = [value for name, value in headers if name == "content-length"]
    return len(lengths) == 1 and _DIGITS.fullmatch(lengths[0]) is not None and int(lengths[0]) > 0


def _body_length(headers: tuple[tuple[str, str], ...], limits: Limits) -> int:
    """The length of the body its Content-Length announces (0 without one), once the head
    has passed every check of this server on it (a body too large is refused, never read)."""
    if any(name == "transfer-encoding" for name, _ in headers):
        raise _Refuse("unsupported", 501)
    # Two Content-Length headers are refused even when they agree, as the gateway's parser
    # refuses them: RFC 9110 8.6 lets a recipient take either way, and the ports agree.
    lengths = [value for name, value in headers if name == "content-length"]
    if not lengths:
        return 0
    if len(lengths) > 1 or not _DIGITS.fullmatch(text := lengths[0]):
        raise _Refuse("bad_length", 400)
    if int(text) > limits.max_body:
        raise _Refuse("body_too_large", 413)
    return int(text)


async def _read_exactly(reader: asyncio.StreamReader, length: int) -> bytes:
    """The body of `length` bytes; a client gone before it all came is answered nothing."""
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        raise _Refuse("incomplete", None) from None


async def _read_line(
    reader: asyncio.StreamReader, too_long: _Refuse, *, first: bool = False
) -> bytes:
    """One line without its CRLF; at most the reader's limit. A line ended by a bare LF is
    refused (400), as the gateway's parser refuses it: RFC 9112 2.2 lets a server take one,
    but two parsers on one path that read line ends differently (a proxy in front, then this
    port) read different headers from the same bytes, and every HTTP client sends CRLF.
    A request's `first` line is refused (400) at its first byte when no request line can
    begin with it (a TLS hello on this plain port: the gateway's parser says so at once), not
    once the line's end or the deadline comes."""
    start = b""
    try:
        if first:
            start = await reader.readexactly(1)
            if start not in (b"\r", b"\n") and not _FIELD_NAME.fullmatch(start):
                raise _Refuse("bad_request", 400, "not an HTTP request (TLS?)")
        line = start + await reader.readuntil(b"\n")
    except asyncio.LimitOverrunError:
        # (What the line begins with is still buffered: a request line naming HEAD is
        # answered without content. A header line's refusal is its request's, which says.)
        too_long.head_only = names_head(start + await reader.read(len(b"HEAD ")))
        raise too_long from None
    except asyncio.IncompleteReadError as exc:
        empty = first and not start and not exc.partial
        raise _Refuse("empty" if empty else "incomplete", None) from None
    if not line.endswith(b"\r\n"):
        raise _Refuse("bad_request", 400, "a line ended by a bare LF")
    return line[:-2]


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """After answering before the whole request was read: half-close, then read and drop a
    bounded amount of what the client is still sending. Closing with unread data would reset
    the connection, and a reset can reach the client before it has read the answer."""
    with contextlib.suppress(TimeoutError, OSError):
        async with asyncio.timeout(_LINGER_S):
            writer.write_eof()
            dropped = 0
            while dropped < _LINGER_BYTES and (chunk := await reader.read(16 * 1024)):
                dropped += len(chunk)


class RefusalLog:
    """Logs refused clients, at most `burst` lines per `window_s`; a window that refused more
    ends with one `http.refused_suppressed` line: how many, why, and from how many peers.
    A handler that refuses clients itself (the login form) logs through its own, as `event`."""

    #: Distinct peers remembered per window, so a flood from many addresses stays small.
    MAX_PEERS = 256

    def __init__(
        self,
        metrics: Metrics,
        burst: int,
        window_s: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        event: str = "http.refused",
    ) -> None:
        self.metrics, self.window_s, self.event = metrics, window_s, event
        self._budget = LineBudget(burst, window_s, self._sum_up, clock)
        #: Peers of the refusals not logged in this window, by host.
        self._peers: Counter[str] = Counter()

    def refused(
        self,
        reason: str,
        peer: str,
        status: int | None,
        *,
        exc_info: BaseException | None = None,
        **fields: str | None,
    ) -> None:
        self.metrics.incr("HttpRefused", reason=reason)
        if self._budget.admit(reason):
            given = {name: value for name, value in fields.items() if value is not None}
            if exc_info is None:
                log.warning(self.event, reason=reason, status=status, peer=peer, **given)
            else:
                log.error(
                    self.event,
                    reason=reason,
                    status=status,
                    peer=peer,
                    **given,
                    exc_info=exc_info,
                )
            return
        host = peer.rpartition(":")[0]
        if host in self._peers or len(self._peers) < self.MAX_PEERS:
            self._peers[host] += 1

    def flush(self) -> None:
        """Write the summary line of the suppressed refusals, if any."""
        self._budget.flush()

    def _sum_up(self, suppressed: Counter[str]) -> None:
        log.warning(
            f"{self.event}_suppressed",
            count=suppressed.total(),
            reasons=dict(suppressed),
            peers=len(self._peers),
            top_peers=dict(self._peers.most_common(3)),
            window_s=self.window_s,
        )
        self._peers.clear()


def _refusal_response(status: int) -> Response:
    return _error(status)


def _error(status: int, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    """The server's own answer for `status`: `{"error": "<its phrase>"}`, JSON as every
    other answer on the port is (a script reading `.error` of an API answer gets one for a
    wrong method or a body too large too, not a line of text)."""
    body = json.dumps({"error": HTTPStatus(status).phrase.lower()}).encode() + b"\n"
    return Response(status, body, "application/json", headers)


#: Written before the request is read, to whoever connects (a flood, a health check, a
#: script reading `.error` of the API's answers): JSON, as every other answer on the port.
_BUSY = Response(503, b'{"error": "busy"}\n', "application/json", (("Retry-After", "1"),)).encode()


def _host(writer: asyncio.StreamWriter) -> str:
    address = writer.get_extra_info("peername")
    return str(address[0]) if isinstance(address, tuple) else "unknown"


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _peer(writer: asyncio.StreamWriter) -> str:
    address = writer.get_extra_info("peername")
    return f"{address[0]}:{address[1]}" if isinstance(address, tuple) else "unknown"


def client_excerpt(text: str, limit: int = 48) -> str:
    """At most `limit` characters of client text, anything but printable ASCII shown as `?`,
    cut from the text redacted: a credential the client put in a path (a token pasted after
    `/api/v1/incidents/`) cut first would be logged less its end, a prefix of no token's
    shape that the log's own redaction lets through. Only its first few hundred characters
    are read, so a flood of long paths costs little."""
    shown = _excerpt_redactor().text(text[: limit + _EXCERPT_READ])
    cut = "".join(ch if " " <= ch <= "~" else "?" for ch in shown[:limit])
    return cut + "..." if len(shown) > limit or len(text) > limit + _EXCERPT_READ else cut


#: Characters of client text read past an excerpt's limit: enough that any credential the
#: limit cuts is seen whole by the redactor.
_EXCERPT_READ = 256
_EXCERPT_REDACTOR: list[Redactor] = []


def _excerpt_redactor() -> Redactor:
    """The redactor of `client_excerpt`, made at the first excerpt (none at import)."""
    if not _EXCERPT_REDACTOR:
        _EXCERPT_REDACTOR.append(Redactor())
    return _EXCERPT_REDACTOR[0]
