"""An httpx2 transport that sends through aiohttp: the sinks keep httpx2's client API (and its
`MockTransport` in tests), and the bytes go over aiohttp's connection pool and C HTTP parser.

httpx2's own transport (httpcore2 on anyio, h11) costs about four times aiohttp's CPU per
request on loopback; at concurrency 64 it was the backend sink's main cost. aiohttp is already
here (aiobotocore's HTTP client, the ingest gateway). Every aiohttp failure becomes the httpx2
`TransportError` a sink already handles: a timeout a `TimeoutException`, anything else on the
connection a `ConnectError` or `ReadError`, so a sink tells them apart exactly as before.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import aiohttp
import httpx2


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


class _Body(httpx2.AsyncByteStream):
    """An aiohttp response's body, closed (its connection back to the pool) by `aclose`."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx2.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx2(self._request):
            yield await self._response.read()

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx2.AsyncBaseTransport):
    """Sends httpx2 requests with one aiohttp session, made at the first request (aiohttp
    wants a running loop). Connections at once are not bounded (as `Limits(max_connections=
    None)`); an idle one is closed after `keepalive_s`. aiohttp checks a pooled connection
    when it takes it, not every idle one per request, so keeping many costs nothing."""

    def __init__(self, tls: ssl.SSLContext, keepalive_s: float = 5.0) -> None:
        self._tls = tls
        self._keepalive_s = keepalive_s
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            ssl=self._tls, limit=0, limit_per_host=0, keepalive_timeout=self._keepalive_s
        )
        # httpx2 decodes Content-Encoding itself, and its request carries every header.
        return aiohttp.ClientSession(connector=connector, auto_decompress=False)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if self._session is None:
            self._session = self._open()
        timeout = request.extensions.get("timeout", {})
        with _as_httpx2(request):
            response = await self._session.request(
                request.method,
                str(request.url),
                headers=_wire_headers(request.headers),
                data=await request.aread() or None,
                allow_redirects=False,
                compress=False,
                timeout=aiohttp.ClientTimeout(
                    connect=timeout.get("pool"),
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
            )
        return httpx2.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_Body(response, request),
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
