"""Reading a request's body within the gateway's `Limits`: its size (413), its time (408), its
codings (415, 501; decoded by ingest/encoding.py) and the budgets of bytes every body held at
once shares (503), so no sender, and no crowd of them, can make the gateway hold more.

`BodyReader` counts what it holds: every body from its first byte until the gateway answers it
(`release`), in all and by source (one source's may take at most half: its senders, a leaked
token among them, cannot take the budget every other source needs), and, apart, those not yet
authenticated (signed ones, Sentry's or Grafana's: a signature covers the body), in all and per
sender, so senders without a credential cannot take the budget the others need. `100 Continue` is sent here, once
the head has passed every check.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

from aiohttp import ClientPayloadError, web
from aiohttp.http_exceptions import HttpProcessingError

from triage.auth_limit import sender_key
from triage.ingest.bad_http import what_was_wrong
from triage.ingest.encoding import SUPPORTED, BadEncoding, Decoder, UnsupportedEncoding, decoder_for
from triage.ingest.limits import Limits
from triage.ingest.refused import Refused
from triage.ingest.server import (
    BadChunkedBody,
    ChunksTooSmall,
    SlowBody,
    reading_unproven,
    send_continue,
    sender_gone,
)
from triage.request_head import forwarded_for

#: What reading a body raises when the sender goes away or lies about its length.
_BROKEN_BODY = (
    ConnectionError,
    asyncio.IncompleteReadError,
    ClientPayloadError,
    HttpProcessingError,
    web.RequestPayloadError,
)
#: Bytes asked of the connection at a time.
_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class _Reading:
    """One body being read: whose (its source, its sender), against which budgets."""

    limits: Limits
    source: str
    authenticated: bool
    peer: str


class BodyReader:
    """Reads bodies within `Limits`, and counts the bytes of those it holds."""

    def __init__(self) -> None:
        #: Bytes of the bodies held now: being read, or read and not yet answered.
        self.reading_bytes = 0
        #: … by source.
        self._by_source: Counter[str] = Counter()
        #: … of which being read and not yet authenticated, in all and by sender.
        self.unauthenticated_bytes = 0
        self._unauthenticated_by_peer: Counter[str] = Counter()

    async def read(
        self, request: web.Request, limits: Limits, *, source: str, authenticated: bool
    ) -> bytes:
        """The body of a request to `source`, decoded, and held until `release`d. One not yet
        `authenticated` is read only as sent (a compressed body would make a few bytes of an
        unknown sender's into a megabyte of ours) and within its own smaller budget."""
        decoder = _decoder(request, limits, authenticated=authenticated)
        peer = sender(request, limits.trusted_proxy_hops)
        reading = _Reading(limits, source, authenticated, peer)
        chunks: list[bytes] = []
        try:
            # (Within: a sender gone before its 100 Continue is a body cut short, as after.)
            await send_continue(request)
            async with (
                asyncio.timeout(limits.body_timeout_s),
                reading_unproven(request, proven=authenticated),
            ):
                await self._read_chunks(request, decoder, reading, chunks)
        except BadEncoding as exc:
            raise Refused(
                400, "bad_encoding", "body is not what its Content-Encoding says", detail=str(exc)
            ) from None
        except TimeoutError:
            raise Refused(
                408, "body_timeout", f"body not received within {limits.body_timeout_s:g} s"
            ) from None
        except ChunksTooSmall as exc:
            raise Refused(400, "chunks_too_small", f"bad request: {exc.message}") from None
        except BadChunkedBody as exc:
            raise Refused(400, "bad_chunk", f"bad request: {what_was_wrong(exc)}") from None
        except SlowBody:
            # Closed for a new connection at the bound: it had not authenticated in time.
            raise Refused(408, "slow_body", "body not received in time") from None
        except _BROKEN_BODY:
            # A sender gone (a reset, its end of stream) reads no answer: its connection's
            # ingest.aborted line says what came of the body, and how it went.
            gone = await sender_gone(request)
            raise Refused(400, "incomplete_body", "incomplete body", logged=not gone) from None
        return b"".join(chunks)

    def release(self, source: str, size_bytes: int) -> None:
        """Give back a body's share once it is answered: while SQS is slow, read bodies waiting
        for it would otherwise pile up without bound."""
        self.reading_bytes -= size_bytes
        self._by_source[source] -= size_bytes
        if self._by_source[source] <= 0:
            del self._by_source[source]

    async def _read_chunks(
        self, request: web.Request, decoder: Decoder, reading: _Reading, chunks: list[bytes]
    ) -> None:
        """Read and decode into `chunks`, counting each against the limit and the budgets. The
        unauthenticated share is given back at the end, and the whole share if it fails."""
        limit = reading.limits.max_body_bytes
        total = 0  # decoded bytes, what the limit counts
        sent = 0  # bytes as they came
        whole = False
        try:
            async for chunk in request.content.iter_chunked(_CHUNK_BYTES):
                sent += len(chunk)
                if sent > limit:
                    raise _too_large(limit)
                data = decoder.feed(chunk, limit - total)
                total += len(data)
                self._hold(reading, len(data))
                if total > limit:
                    raise _too_large(limit)
                over = self._over_budget(reading)
                if over is not None:
                    raise Refused(
                        503,
                        "busy",
                        "too many bodies arriving at once",
                        retry_after_s=1,
                        detail=over,
                    )
                chunks.append(data)
            decoder.end()
            whole = True
        finally:
            if not whole:
                self.release(reading.source, total)
            if not reading.authenticated:
                self._let_go_unauthenticated(reading.peer, total)

    def _hold(self, reading: _Reading, size_bytes: int) -> None:
        self.reading_bytes += size_bytes
        self._by_source[reading.source] += size_bytes
        if not reading.authenticated:
            self.unauthenticated_bytes += size_bytes
            self._unauthenticated_by_peer[reading.peer] += size_bytes

    def _let_go_unauthenticated(self, peer: str, size_bytes: int) -> None:
        self.unauthenticated_bytes -= size_bytes
        by_peer = self._unauthenticated_by_peer
        by_peer[peer] -= size_bytes
        if by_peer[peer] <= 0:
            del by_peer[peer]

    def _over_budget(self, reading: _Reading) -> str | None:
        """Which budget holding this body's bytes passes (its 503's `detail`), or None."""
        limits = reading.limits
        if self.reading_bytes > limits.reading_budget_bytes:
            return "all_bodies"
        if self._by_source[reading.source] > limits.source_share_bytes:
            return "source_share"
        if reading.authenticated:
            return None
        if self.unauthenticated_bytes > limits.unauthenticated_budget_bytes:
            return "unauthenticated"
        if self._unauthenticated_by_peer[reading.peer] > limits.unauthenticated_per_peer_bytes:
            return "sender_share"
        return None


def _too_large(limit: int) -> Refused:
    return Refused(413, "too_large", f"body over the {limit:,}-byte limit")


def _decoder(request: web.Request, limits: Limits, *, authenticated: bool) -> Decoder:
    """The decoder for the body's Content-Encoding, once its head shows it may be read: not
    over the limit by its Content-Length, framed only by chunks, and, unauthenticated, sent
    without a coding."""
    limit = limits.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    codings = request.headers.getall("Content-Encoding", ())
    if not authenticated and any(c.strip().lower() not in ("", "identity") for c in codings):
        raise Refused(
            415,
            "unsupported_encoding",
            "a signed webhook is read as it is sent: send it without Content-Encoding",
        )
    if _transfer_codings(request) not in ((), ("chunked",)):
        # aiohttp reads only the chunked framing and hands the rest on as it came: a body
        # in gzip would be judged as gzip bytes (422), and the sender drop it for good.
        raise Refused(
            501,
            "unsupported_transfer_encoding",
            "the only Transfer-Encoding read is chunked: send a compressed body with "
            f"Content-Encoding ({SUPPORTED})",
        )
    try:
        return decoder_for(codings)
    except UnsupportedEncoding as exc:
        raise Refused(
            415,
            "unsupported_encoding",
            f"{exc} is not supported: send the body as it is, or as {SUPPORTED}",
            headers={"Accept-Encoding": SUPPORTED},
        ) from None


def _transfer_codings(request: web.Request) -> tuple[str, ...]:
    """The request's transfer codings, in order, lower case (aiohttp has already refused a
    list whose last is not `chunked`)."""
    values = request.headers.getall("Transfer-Encoding", ())
    return tuple(c.strip().lower() for value in values for c in value.split(",") if c.strip())


def sender(request: web.Request, trusted_proxy_hops: int) -> str:
    """The sender: its address as the trusted proxy nearest it saw it (`forwarded_for`), or
    the connection's, as `sender_key` names it."""
    values = request.headers.getall("X-Forwarded-For", ())
    forwarded = forwarded_for(values, trusted_proxy_hops)
    return sender_key(forwarded if forwarded is not None else request.remote or "unknown")
