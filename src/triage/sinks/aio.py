"""An httpx2 transport that sends through aiohttp: the sinks and the OpenAI SDK keep httpx2's
client API (and its `MockTransport` in tests), and the bytes go over aiohttp's connection pool
and C HTTP parser. Every answer is bounded in size (decoded) and every call in time.

httpx2's own transport (httpcore2 on anyio, h11) costs about four times aiohttp's CPU per
request on loopback; at concurrency 64 it was the backend sink's main cost. aiohttp is already
here (aiobotocore's HTTP client, the ingest gateway). Every aiohttp failure becomes the httpx2
`TransportError` a sink already handles: a timeout a `TimeoutException`, anything else on the
connection a `ConnectError` or `ReadError`, a request aiohttp will not send (a header with a line
break) a `LocalProtocolError`, so a sink tells them apart exactly as before.

An answer's status and headers always reach the caller. Its body is decoded here, not by
aiohttp, which refuses a whole answer, status and all, for a coding it cannot decode (`br`,
`zstd`: never asked for, but a proxy may send them); a body that cannot be read (too large, not
in its coding, a coding we do not decode) fails as `AnswerUnread`, which carries that status and
those headers, and a charset no text is in (`zlib`, UTF-16 without its byte order mark) is
read as UTF-8, so that reading the text of any answer cannot fail. A body that starts with a
byte order mark is read as the mark says, whatever charset its headers name (WHATWG Encoding).
"""

from __future__ import annotations

import email.message
import functools
import ssl
import weakref
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import aiohttp
import httpx2
from yarl import URL

# Used here, and re-exported (`as` the same name) for callers that import them from here.
from triage.answer_text import marked_encoding as marked_encoding
from triage.answer_text import readable_text as readable_text

if TYPE_CHECKING:
    from aiohttp.client_reqrep import ClientRequest
    from aiohttp.connector import Connection
    from aiohttp.tracing import Trace


@contextmanager
def _as_httpx2(request: httpx2.Request) -> Iterator[None]:
    """aiohttp's errors as httpx2's (its timeouts are `TimeoutError`s)."""
    try:
        yield
    except TimeoutError as exc:
        raise httpx2.TimeoutException(str(exc) or "timed out", request=request) from exc
    except aiohttp.ClientConnectorError as exc:  # refused, unreachable, DNS
        raise httpx2.ConnectError(str(exc), request=request) from exc
    except (aiohttp.ClientError, OSError) as exc:  # dropped, reset, malformed answer
        raise httpx2.ReadError(str(exc) or type(exc).__name__, request=request) from exc


def _wire_headers(headers: httpx2.Headers) -> list[tuple[str, str]]:
    """The headers as httpx2 itself puts them on the wire: in the case they were given (its
    `multi_items` lowercases the names; some servers, and our stand-ins, read them as sent)."""
    encoding = headers.encoding
    return [(name.decode(encoding), value.decode(encoding)) for name, value in headers.raw]


#: The largest answer a sink or the model client reads, decoded (a page of 100 GitHub comments
#: of 64 KiB each fits). A service that sends more is broken or hostile: a ReadError, not the
#: process's memory.
MAX_BODY_BYTES = 16 * 1024 * 1024


class AnswerUnread(httpx2.ReadError):
    """An answer whose status and headers came but whose body is not read, for a reason the
    same request would meet again (unlike a connection that broke off): a `ReadError` to
    whoever handles those (a sink: the service failed this call); its own class for a caller
    that judges the answer by its status alone (the backend sink) or does not retry it (the
    model's clients). `status_code` and `headers` are the answer's, when it is known (None
    from a client that raises it before it has them): the status decides what the answer
    means, the unread body only says why it has no more to tell."""

    def __init__(
        self,
        message: str,
        *,
        request: httpx2.Request | None = None,
        status_code: int | None = None,
        headers: httpx2.Headers | None = None,
    ) -> None:
        super().__init__(message, request=request)
        self.status_code = status_code
        self.headers = headers


class AnswerTooLarge(AnswerUnread):
    """Raised when an answer is over `MAX_BODY_BYTES`, decoded."""


class AnswerUndecodable(AnswerUnread):
    """Raised when an answer's body is not in the content coding its `Content-Encoding`
    names (gzip that is not gzip), or names a coding the transport does not decode (`br`,
    `zstd`): the service's bytes, the same each time it is asked."""


class ReusedConnectionDropped(httpx2.ReadError):
    """Raised when a request sent on a pooled keep-alive connection got no answer at all: the
    server closed the connection as the request arrived (its idle timeout ran out), or reset
    it. The request may never have been read. A caller whose request is safe to repeat (a POST
    with an Idempotency-Key, RFC 9112 9.3.1) may send it again at once, on a new connection;
    a drop on a new connection is a plain `ReadError`."""


#: Whether the latest request of the running task through an `AiohttpTransport` went on a
#: pooled connection (`_Connector.connect` sets it; `handle_async_request` clears it first).
_ON_POOLED: ContextVar[bool] = ContextVar("triage_aio_on_pooled", default=False)


class _Connector(aiohttp.TCPConnector):
    """aiohttp's connector, telling whether each connection it hands out has served a request
    before (it came from the pool): what a TraceConfig's `on_connection_reuseconn` told,
    without the signals a TraceConfig sends at every stage of every request (~30 µs of CPU a
    request, the LLM's and the sinks' alike). `connect` is awaited in the requesting task, so
    the mark it sets is that request's."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: The connections (their protocols) handed out at least once.
        self._served: weakref.WeakSet[object] = weakref.WeakSet()

    async def connect(
        self,
        req: ClientRequest,
        traces: list[Trace],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 (aiohttp's own signature)
    ) -> Connection:
        connection = await super().connect(req, traces, timeout)
        protocol = connection.protocol
        if protocol is not None:
            _ON_POOLED.set(protocol in self._served)
            self._served.add(protocol)
        return connection


#: aiohttp's errors for a connection that ended before any answer (closed or reset).
_DROPPED = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)


#: What no longer describes an answer decoded here (or not to be decoded by anyone).
_ENCODED_HEADERS = frozenset({b"content-encoding", b"content-length"})

#: The content codings decoded (what httpx2 asks for: `Accept-Encoding: gzip, deflate`), and
#: the zlib window each is read with.
_ZLIB_WBITS = {
    "gzip": 16 + zlib.MAX_WBITS,
    "x-gzip": 16 + zlib.MAX_WBITS,
    "deflate": zlib.MAX_WBITS,
}


def _coding(response: aiohttp.ClientResponse) -> str | None:
    """The one coding an answer's `Content-Encoding` names (`identity` aside), lower-cased;
    None for none; `""` when it names more than one (never asked for, not decoded)."""
    named = [
        coding.strip().lower()
        for value in response.headers.getall("Content-Encoding", [])
        for coding in value.split(",")
    ]
    codings = [coding for coding in named if coding not in ("", "identity")]
    if not codings:
        return None
    return codings[0] if len(codings) == 1 else ""


class _Inflater:
    """A gzip or deflate body decoded a piece at a time, never past `room` bytes at a time:
    16 MiB of gzip can inflate to 16 GiB. A `deflate` body is zlib-wrapped as RFC 9110 says,
    or raw deflate, as some servers send it (aiohttp and browsers read both)."""

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._zlib: zlib._Decompress | None = None

    def decode(self, data: bytes, room: int) -> bytes:
        """`data` decoded, at most `room` + 1 bytes of it (more would be too large anyway).
        Raises zlib.error for bytes not in the coding."""
        if self._zlib is None:
            wbits = _ZLIB_WBITS[self._coding]
            if self._coding == "deflate" and data[:1] and data[0] & 0x0F != 8:
                wbits = -zlib.MAX_WBITS  # no zlib header: raw deflate
            self._zlib = zlib.decompressobj(wbits)
        return self._zlib.decompress(data, room + 1)

    def finish(self) -> bytes:
        """What the decoder still holds once the body has all come (input `decode` had
        consumed whole, so nothing that could grow past the bound)."""
        return b"" if self._zlib is None else self._zlib.flush()


class _Body(httpx2.AsyncByteStream):
    """An aiohttp response's body, decoded from its `coding` (None: as it came; `""` or any
    coding not in `_ZLIB_WBITS`: not read at all), at most `most` bytes of it (`MAX_BODY_BYTES`
    unless the transport says less), closed (its connection back to the pool) by `aclose`.
    A body it cannot read fails as `AnswerUnread`, with the answer's `status` and `headers`."""

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        request: httpx2.Request,
        most: int,
        coding: str | None = None,
    ) -> None:
        self._response = response
        self._request = request
        self._most = most
        self._coding = coding

    def _unread(self, kind: type[AnswerUnread], message: str) -> AnswerUnread:
        """Why the body is not read (our words only: a coding's name is the service's text)."""
        headers = httpx2.Headers(
            [(k, v) for k, v in self._response.raw_headers if k.lower() not in _ENCODED_HEADERS]
        )
        return kind(
            message, request=self._request, status_code=self._response.status, headers=headers
        )

    async def __aiter__(self) -> AsyncIterator[bytes]:
        coding = self._coding
        if coding is not None and coding not in _ZLIB_WBITS:
            raise self._unread(AnswerUndecodable, "an answer in a coding not decoded here")
        inflater = None if coding is None else _Inflater(coding)
        with _as_httpx2(self._request):
            body = bytearray()
            try:
                async for chunk in self._response.content.iter_chunked(64 * 1024):
                    room = self._most - len(body)
                    body += chunk if inflater is None else inflater.decode(chunk, room)
                    if len(body) > self._most:
                        break
                if inflater is not None and len(body) <= self._most:
                    body += inflater.finish()
            except zlib.error:
                raise self._unread(
                    AnswerUndecodable, "an answer not in the coding its Content-Encoding names"
                ) from None
            if len(body) > self._most:
                raise self._unread(AnswerTooLarge, f"an answer over {self._most:,} bytes")
            yield bytes(body)

    async def aclose(self) -> None:
        self._response.release()


@functools.lru_cache(maxsize=64)
def _charset_named(content_type: str) -> str | None:
    """The charset a Content-Type names, read as httpx2 reads it (its `charset_encoding`:
    Python's email parser, ~10 µs). Every answer's text is read after it (`readable_text`,
    then `encoding`), twice an answer; a service answers with the same header every time,
    so the parse is remembered for the last 64 headers (each at most aiohttp's 8 KiB)."""
    message = email.message.Message()
    message["content-type"] = content_type
    return message.get_content_charset(failobj=None)


class _MarkedAnswer(httpx2.Response):
    """An answer whose text is read as its body's byte order mark says, when it has one: the
    mark wins over the charset the headers name (or leave out), as a browser reads it. Set
    once the body is read, the only way to its text. Its charset is read from its
    Content-Type as httpx2 reads it, remembered (`_charset_named`)."""

    @property
    def charset_encoding(self) -> str | None:
        content_type = self.headers.get("Content-Type")
        return None if content_type is None else _charset_named(content_type)

    def read(self) -> bytes:
        return self._as_marked(super().read())

    async def aread(self) -> bytes:
        return self._as_marked(await super().aread())

    def _as_marked(self, body: bytes) -> bytes:
        marked = marked_encoding(body)
        if marked is not None and "_text" not in self.__dict__:
            self.encoding = marked
        return body


def _as_sent(url: httpx2.URL) -> URL:
    """`url` exactly as httpx2 encoded it. Given a string, aiohttp parses it again and yarl
    decodes `%2E` and resolves dot segments: a ticket reference of `..`, percent-encoded into
    a route as `%2E%2E`, would send `/tickets/%2E%2E/resolve` (and our token) to `/resolve`."""
    return URL(str(url), encoded=True)


#: What `handle_async_request` tells of every answer's protocol.
_HTTP_1_1 = {"http_version": b"HTTP/1.1"}
#: The extensions of an answer with no length (`_framed`): `UNFRAMED` set.
UNFRAMED = "triage.unframed"
_UNFRAMED = {**_HTTP_1_1, UNFRAMED: True}


def _framed(response: aiohttp.ClientResponse) -> bool:
    """Whether an answer says where its body ends (a Content-Length, or chunks): one that does
    not (HTTP/1.0, or `Connection: close` without either) ends where its connection closes,
    so one closed mid-answer reads as whole. Told to the caller (`UNFRAMED`), since the
    headers it gets may have lost the length (a decoded answer's)."""
    if response.headers.get("Content-Length") is not None:
        return True
    return "chunked" in response.headers.get("Transfer-Encoding", "").lower()


def _arrived_whole(response: aiohttp.ClientResponse, most: int) -> bytes | None:
    """The answer's body when all of it has arrived already and is at most `most` bytes (a
    small answer comes in the packets of its head), its connection back to the pool; None
    when it is still coming or too large, to be read as it comes (`_Body`). Nothing can fail
    any more on the way to a body that is all here, so taking it now changes no outcome."""
    content = response.content
    if not content.is_eof() or content.exception() is not None or content.total_bytes > most:
        return None
    try:
        body = content.read_nowait()
    except TimeoutError:  # the whole request's bound passed: the read as it comes says so
        return None
    response.release()
    return body


def _total_s(timeout: dict[str, float | None]) -> float | None:
    """A bound on the whole request, the answer's body included: httpx2's timeouts are per
    socket operation, so a server dripping a byte just inside the read timeout could hold a
    call for ever. Twice the read timeout, plus the connect timeout."""
    read_s = timeout.get("read")
    if read_s is None:
        return None
    return 2 * read_s + (timeout.get("connect") or 0.0)


class AiohttpTransport(httpx2.AsyncBaseTransport):
    """Sends httpx2 requests with one aiohttp session, made at the first request (aiohttp
    wants a running loop). Connections at once are not bounded (as `Limits(max_connections=
    None)`); an idle one is closed after `keepalive_s`. aiohttp checks a pooled connection
    when it takes it, not every idle one per request, so keeping many costs nothing. An answer
    over `max_body_bytes`, decoded, is not read (`AnswerTooLarge`)."""

    def __init__(
        self,
        tls: ssl.SSLContext,
        keepalive_s: float = 5.0,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self._tls = tls
        self._keepalive_s = keepalive_s
        self._max_body_bytes = max_body_bytes
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        connector = _Connector(
            ssl=self._tls, limit=0, limit_per_host=0, keepalive_timeout=self._keepalive_s
        )
        # The body is decoded here (`_Body`), not by aiohttp: it refuses an answer whose coding
        # it cannot decode before its status is told. `MAX_BODY_BYTES` bounds what a
        # compressed answer grows to, not only what came over the wire.
        return aiohttp.ClientSession(connector=connector, auto_decompress=False)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if self._session is None:
            self._session = self._open()
        timeout = request.extensions.get("timeout", {})
        _ON_POOLED.set(False)
        try:
            with _as_httpx2(request):
                response = await self._session.request(
                    request.method,
                    _as_sent(request.url),
                    headers=_wire_headers(request.headers),
                    data=await request.aread() or None,
                    allow_redirects=False,
                    compress=False,
                    timeout=aiohttp.ClientTimeout(
                        total=_total_s(timeout),
                        connect=timeout.get("pool"),
                        sock_connect=timeout.get("connect"),
                        sock_read=timeout.get("read"),
                    ),
                )
        except httpx2.ReadError as exc:
            if _ON_POOLED.get() and isinstance(exc.__cause__, _DROPPED):
                raise ReusedConnectionDropped(str(exc), request=request) from exc.__cause__
            raise
        except (ValueError, UnicodeError) as exc:
            # aiohttp refuses to send a header with a line break (it would inject another):
            # the request cannot be sent as it stands. Only the type: the text may quote the
            # value, a credential more often than not.
            raise httpx2.LocalProtocolError(
                f"request not sendable ({type(exc).__name__})", request=request
            ) from None
        headers = response.raw_headers
        coding = _coding(response)
        if coding is not None:
            # Decoded here as it comes (or not at all): httpx2 must not decode it again, nor
            # hold it to the wire length.
            headers = tuple((k, v) for k, v in headers if k.lower() not in _ENCODED_HEADERS)
            whole = None
        else:
            whole = _arrived_whole(response, self._max_body_bytes)
        answer = _MarkedAnswer(
            status_code=response.status,
            headers=headers,
            stream=_Body(response, request, self._max_body_bytes, coding)
            if whole is None
            else httpx2.ByteStream(whole),
            request=request,
            extensions=_HTTP_1_1 if _framed(response) else _UNFRAMED,
        )
        readable_text(answer)
        if whole is not None:
            answer.read()  # the caller's read is then a look-up, not five async iterators
        return answer

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
