"""An httpx2 transport that sends through aiohttp: the sinks and the OpenAI SDK keep httpx2's
client API (and its `MockTransport` in tests), and the bytes go over aiohttp's connection pool
and C HTTP parser. Every answer is bounded in size (decoded) and every call in time.

httpx2's own transport (httpcore2 on anyio, h11) costs about four times aiohttp's CPU per
request on loopback; at concurrency 64 it was the backend sink's main cost. aiohttp is already
here (aiobotocore's HTTP client, the ingest gateway). Every aiohttp failure becomes the httpx2
`TransportError` a sink already handles: a timeout a `TimeoutException`, anything else on the
connection a `ConnectError` or `ReadError`, a request aiohttp will not send (a header with a line
break) a `LocalProtocolError`, so a sink tells them apart exactly as before.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import aiohttp
import httpx2
from aiohttp.http_exceptions import ContentEncodingError
from yarl import URL


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
    model's clients)."""


class AnswerTooLarge(AnswerUnread):
    """Raised when an answer is over `MAX_BODY_BYTES`, decoded."""


class AnswerUndecodable(AnswerUnread):
    """Raised when an answer's body is not in the content coding its `Content-Encoding`
    names (gzip that is not gzip): the service's bytes, the same each time it is asked."""


#: What no longer describes an answer aiohttp has decoded.
_ENCODED_HEADERS = frozenset({b"content-encoding", b"content-length"})


class _Body(httpx2.AsyncByteStream):
    """An aiohttp response's body, at most `most` bytes (`MAX_BODY_BYTES` unless the transport
    says less), closed (its connection back to the pool) by `aclose`."""

    def __init__(
        self, response: aiohttp.ClientResponse, request: httpx2.Request, most: int
    ) -> None:
        self._response = response
        self._request = request
        self._most = most

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx2(self._request):
            body = bytearray()
            try:
                async for chunk in self._response.content.iter_chunked(64 * 1024):
                    body += chunk
                    if len(body) > self._most:
                        raise AnswerTooLarge(
                            f"an answer over {self._most:,} bytes", request=self._request
                        )
            except aiohttp.ClientPayloadError as exc:
                if not isinstance(exc.__cause__, ContentEncodingError):
                    raise  # cut short: a network failure (`_as_httpx2`)
                # Our words only: the coding's name is the service's text.
                raise AnswerUndecodable(
                    "an answer not in the coding its Content-Encoding names",
                    request=self._request,
                ) from None
            yield bytes(body)

    async def aclose(self) -> None:
        self._response.release()


def _as_sent(url: httpx2.URL) -> URL:
    """`url` exactly as httpx2 encoded it. Given a string, aiohttp parses it again and yarl
    decodes `%2E` and resolves dot segments: a ticket reference of `..`, percent-encoded into
    a route as `%2E%2E`, would send `/tickets/%2E%2E/resolve` (and our token) to `/resolve`."""
    return URL(str(url), encoded=True)


#: What `handle_async_request` tells of every answer's protocol.
_HTTP_1_1 = {"http_version": b"HTTP/1.1"}


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
        connector = aiohttp.TCPConnector(
            ssl=self._tls, limit=0, limit_per_host=0, keepalive_timeout=self._keepalive_s
        )
        # aiohttp decodes the body (gzip, deflate: what httpx2 asks for), so `MAX_BODY_BYTES`
        # bounds what a compressed answer grows to, not only what came over the wire: 16 MiB of
        # gzip can inflate to 16 GiB.
        return aiohttp.ClientSession(connector=connector, auto_decompress=True)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if self._session is None:
            self._session = self._open()
        timeout = request.extensions.get("timeout", {})
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
        except (ValueError, UnicodeError) as exc:
            # aiohttp refuses to send a header with a line break (it would inject another):
            # the request cannot be sent as it stands. Only the type: the text may quote the
            # value, a credential more often than not.
            raise httpx2.LocalProtocolError(
                f"request not sendable ({type(exc).__name__})", request=request
            ) from None
        headers = response.raw_headers
        if response.headers.get("Content-Encoding", "identity").lower() != "identity":
            # Decoded already: httpx2 must not decode it again, nor hold it to the wire length.
            headers = tuple((k, v) for k, v in headers if k.lower() not in _ENCODED_HEADERS)
            whole = None  # aiohttp may still be inflating it: read as it comes
        else:
            whole = _arrived_whole(response, self._max_body_bytes)
        answer = httpx2.Response(
            status_code=response.status,
            headers=headers,
            stream=_Body(response, request, self._max_body_bytes)
            if whole is None
            else httpx2.ByteStream(whole),
            request=request,
            extensions=_HTTP_1_1,
        )
        if whole is not None:
            answer.read()  # the caller's read is then a look-up, not five async iterators
        return answer

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
