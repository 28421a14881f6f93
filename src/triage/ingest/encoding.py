"""A webhook body's `Content-Encoding`, decoded by the gateway itself rather than by aiohttp.

aiohttp's decoder accepted a gzip body without its trailer (so a truncated body was queued as if
whole), logged a traceback for a wrong checksum, treated `x-gzip` and unknown codings as no
coding at all, and answered `br` with a plain-text hint to install a library. Here:

    none, identity                 the body as it came
    gzip, x-gzip                   one or more gzip members, each checked to its CRC and length
    deflate                        a zlib stream (RFC 9110), or raw deflate as some senders send
    anything else, or two codings  UnsupportedEncoding (the gateway answers 415)

A stream that is cut short, fails its checksum or carries bytes after its end is BadEncoding,
as is one of more than `MAX_GZIP_MEMBERS` gzip members (each costs a new inflater: a megabyte of
empty members is ~36x the CPU of one member).
Output is produced at most `room + 1` bytes at a time, so a compression bomb is stopped as soon
as it passes the body limit, never inflated whole.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Protocol

from triage.normalize.common import cut
from triage.redact import redact

#: What a 415 names as accepted (its `Accept-Encoding`).
SUPPORTED = "gzip, deflate"
#: gzip members one body may hold: senders write one; bgzip, 64 KiB a member, 17 for 1 MiB.
MAX_GZIP_MEMBERS = 64


class UnsupportedEncoding(Exception):
    """A coding the gateway does not decode; the message names it (quoted, cut)."""


class BadEncoding(Exception):
    """A body that is not what its coding says: not compressed, cut short, a wrong checksum."""


class Decoder(Protocol):
    """Decodes one body as its chunks arrive."""

    def feed(self, data: bytes, room: int) -> bytes:
        """The bytes `data` decodes to, stopping once more than `room` were produced."""
        ...

    def end(self) -> None:
        """Raise BadEncoding when the stream did not end where the body did."""
        ...


def decoder_for(values: Iterable[str]) -> Decoder:
    """The decoder for a request's `Content-Encoding` header values (every one of them)."""
    sent = [c.strip() for value in values for c in value.split(",")]
    sent = [c for c in sent if c and c.lower() != "identity"]
    if not sent:
        return _Identity()
    if len(sent) > 1:
        raise UnsupportedEncoding(f"more than one content coding ({len(sent)})")
    coding = sent[0].lower()
    if coding in ("gzip", "x-gzip"):
        return _Inflate(gzip=True)
    if coding == "deflate":
        return _Inflate(gzip=False)
    raise UnsupportedEncoding(f"content coding {quoted_header_value(sent[0])}")


def quoted_header_value(value: str) -> str:
    """A header value as a refusal quotes it back: as sent (lower-cased, a token would still
    spell most of itself), redacted, and only then cut to 40 characters. A credential put in
    the wrong header (the gateway's own token, held by every redactor, or one of a known
    shape) is never answered, nor the first 39 characters of one too long to quote whole."""
    return repr(cut(redact(value), 40, ellipsis=True))


class _Identity:
    """No coding: the body as it came."""

    def feed(self, data: bytes, room: int) -> bytes:
        return data

    def end(self) -> None:
        return None


class _Inflate:
    """gzip (member after member), or deflate: zlib's, else raw if its first bytes say so."""

    _GZIP_BITS = 16 + zlib.MAX_WBITS
    _RAW_BITS = -zlib.MAX_WBITS

    def __init__(self, *, gzip: bool) -> None:
        self._gzip = gzip
        self._stream = zlib.decompressobj(self._GZIP_BITS if gzip else zlib.MAX_WBITS)
        #: Whether any input was decoded: raw deflate is tried only if the first bytes fail.
        self._started = False
        self._members = 1

    def feed(self, data: bytes, room: int) -> bytes:
        parts: list[bytes] = []
        produced = 0
        while data and produced <= room:
            if self._stream.eof:
                if not self._gzip:
                    raise BadEncoding("bytes after the end of the deflate stream")
                self._members += 1
                if self._members > MAX_GZIP_MEMBERS:
                    raise BadEncoding(f"more than {MAX_GZIP_MEMBERS} gzip members")
                self._stream = zlib.decompressobj(self._GZIP_BITS)  # the next gzip member
            try:
                out = self._stream.decompress(data, room - produced + 1)
            except zlib.error as exc:
                if self._gzip or self._started:
                    raise BadEncoding(str(exc)) from None
                # "deflate" without the zlib header: some senders mean raw deflate.
                self._started = True
                self._stream = zlib.decompressobj(self._RAW_BITS)
                continue
            self._started = True
            parts.append(out)
            produced += len(out)
            data = self._stream.unused_data if self._stream.eof else self._stream.unconsumed_tail
        return b"".join(parts)

    def end(self) -> None:
        if not self._stream.eof:
            raise BadEncoding("the compressed stream is cut short")
