"""How a connection's bytes become requests: the parser fed one request head at a time
(`HeadByHead`), the requests whose head parsed but whose framing the gateway will not read
(`framing_fault`), and how much framing a chunked body may take (`MAX_FRAMING`).

aiohttp feeds its parser (llhttp) each read whole. When the parser fails on bytes after a request
that came whole in the same read (garbage pipelined behind an alert, or anything after a request
with `Connection: close`, which llhttp refuses though RFC 9112 9.6 has a server simply read
nothing more), aiohttp answers the whole read 400 and that request is lost. Fed one head at a
time, the request is answered, what follows a closing request is ignored, and anything else
after it is answered 400. Cut there, a chunked body's bytes are fed apart from its head, and
its chunk sizes are checked before the parser reads them (ingest/chunks.py).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import MutableSequence
from typing import Any

from aiohttp import HttpVersion10, HttpVersion11
from aiohttp.http_exceptions import BadHttpMessage, HttpProcessingError, TransferEncodingError
from aiohttp.http_parser import HttpRequestParserPy, RawRequestMessage
from aiohttp.streams import EMPTY_PAYLOAD, StreamReader
from aiohttp.web_protocol import _ErrInfo
from yarl import URL

from triage.ingest.bad_http import (
    MAX_TARGET_BYTES,
    SERVER_METHODS,
    RequestLineRefused,
    refuse_line,
)
from triage.ingest.chunks import ChunkSizes
from triage.request_head import names_head, request_line_fault

#: A request as the parser hands it on: its head (or the error in its place) and its body.
Parsed = tuple[RawRequestMessage | _ErrInfo, StreamReader]

#: Where a request head ends: no request reaches the gateway's parser with a bare LF (it
#: refuses one), so every head that completes ends here.
_HEAD_END = b"\r\n\r\n"

#: Bytes of the request head being received kept to find its request line in once it is
#: whole: the most a head may take (server.py's MAX_HEAD_BYTES; the gateway refuses a longer one).
_HEAD_KEPT = 64 * 1024 + len(_HEAD_END)

#: Bytes of the request head being received kept to read its method in (`method_read`): the
#: longest request line the parser takes, and a few empty lines before it.
_LINE_KEPT = MAX_TARGET_BYTES + 64

#: A byte a request line may begin with (its method's first), and how many bytes are read to
#: find it past the empty lines a server ignores before it.
_TOKEN_BYTE = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]")
_LINE_START = 64
#: How a TLS connection begins (a handshake record), sent to this plain port.
_TLS_RECORD = b"\x16\x03"

#: The largest Content-Length llhttp reads (an unsigned 64-bit integer); it refuses a larger one.
_MAX_LENGTH = 2**64 - 1
#: aiohttp's pure-Python parser counts the request line and the blank line that ends a head
#: among its `max_headers` lines; llhttp counts header fields only. The pure-Python parser is
#: given this many more, so that both take the same heads.
_PY_HEAD_LINES = 2

#: Cuts made in one read, at most: far more requests than any sender pipelines in one packet.
#: Past them the rest of the read is fed whole, as aiohttp feeds it.
MAX_CUTS = 32

#: A chunked body may take at most this many bytes on the wire per byte it holds (past
#: FRAMING_SLACK). Each chunk costs the parser the same whatever its size: a megabyte sent as
#: 1-byte chunks is 6 MB on the wire and most of a second of the gateway's CPU (in large
#: chunks: a few milliseconds), from a sender with no credential. Chunks of 8 bytes or more
#: pass; no sender's are smaller.
MAX_FRAMING = 2
FRAMING_SLACK = 64 * 1024


def mostly_framing(wire_bytes: int, body_bytes: int) -> bool:
    """Whether a chunked body that took `wire_bytes` on the wire to carry `body_bytes` is
    past MAX_FRAMING."""
    return wire_bytes > MAX_FRAMING * body_bytes + FRAMING_SLACK


class HeadByHead:
    """The connection's request parser (llhttp, through aiohttp), fed one request head at a
    time. Cut where heads end, each request is returned as the parser finishes its head, and a
    parse failure only after them. What follows a request that closes its connection, once
    that request is whole, is ignored as RFC 9112 9.6 says (no answer, no line); any other
    failure is answered 400 after the requests before it. Cutting a read changes nothing else:
    the parser is a stream parser (and what follows a request asking for an Upgrade that is
    declined is dropped as aiohttp drops it)."""

    def __init__(self, parser: Any) -> None:
        if type(parser) is HttpRequestParserPy:
            # aiohttp's own parser (AIOHTTP_NO_EXTENSIONS=1) reads a request line its way
            # (`get` as GET): it reads the gateway's. No other attribute differs.
            parser.__class__ = LineCheckedParser
            parser.max_headers += _PY_HEAD_LINES
        self._parser = parser
        #: The bytes fed since the last head ended (at most _HEAD_KEPT of them).
        self._since_head = bytearray()
        #: The first bytes fed since the last head ended (at most _LINE_KEPT of them): the
        #: request line of the head being received, when `_head_kept_whole`.
        self._head_start = bytearray()
        #: The body being received after the last head parsed, followed to its end
        #: (`_follow_body`), and, when its Content-Length frames it, its bytes still to come.
        self._body: StreamReader | None = None
        self._length_left: int | None = None
        #: A request line was refused after the parser took it: nothing more is read.
        self.line_refused = False
        #: Whether `_since_head` begins where the head being received does (no body between).
        self._head_kept_whole = True
        #: The last bytes fed, for a head end that straddles two reads.
        self._last = b""
        #: A request that closes the connection came whole: nothing more is read.
        self.closed = False
        #: A chunked body whose trailer section holds fields has ended: nothing more is read,
        #: and the connection closes once its request is answered. llhttp keeps trailer
        #: fields and hands them to the next request as headers of its own (a credential in
        #: one authenticated the request after it); aiohttp's pure-Python parser drops them.
        self.trailered = False
        #: The body of the last request parsed, if it asks for an Upgrade …
        self._upgrade_body: StreamReader | None = None
        #: … or closes its connection.
        self._closing_body: StreamReader | None = None
        #: The chunked body being received, and its chunk sizes followed.
        self._chunked_body: StreamReader | None = None
        self._chunk_sizes: ChunkSizes | None = None
        #: The method of the head the parser refused, once its request line had come whole
        #: and passed (`method_read`): its answer is to that method (a HEAD's has no content).
        self.refused_method: str | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)  # all but feed_data is the parser's own

    def feed_data(self, data: bytes) -> tuple[Any, bool, bytes]:
        """aiohttp's `HttpRequestParser.feed_data`: the requests parsed, whether the
        connection now speaks another protocol, and the bytes that are that protocol's."""
        if self.closed or self.line_refused:
            return (), False, b""
        messages: list[Parsed] = []
        start = 0
        ends = _head_ends(self._last, data)
        uncut_end = ends[-1] if len(ends) > MAX_CUTS else None
        self._cut_at_body_end(ends, 0, len(data))
        while ends:
            end = ends.pop(0)
            segment = data[start:end]
            try:
                if self._chunk_sizes is not None:
                    self._check_chunk_sizes(segment)
                self._check_line_start(segment)
                parsed, upgraded, tail = self._parser.feed_data(segment)
                if parsed:
                    # Past MAX_CUTS, the rest of the read is fed whole: a head there is not
                    # surely the end of what was fed.
                    self._follow_chunked(parsed, uncut=end == uncut_end)
            except HttpProcessingError as exc:
                error = self._line_error(segment, exc)
                self.refused_method = self.method_read(segment)
                return self._failed_after(messages, error), False, b""
            if self.trailered:
                # What was parsed with the body's end is after it, read with its trailer
                # fields as headers: none of it is taken.
                self.closed = True
                break
            if self._line_refused(segment, parsed):
                return [*messages, *parsed], False, b""
            if parsed:
                self._cut_at_body_end(ends, end, len(data))
            declined = not upgraded and self._upgrade_declined(parsed)
            messages.extend(parsed)
            if upgraded:  # what follows is the new protocol's, kept aside by aiohttp
                return messages, True, tail + data[end:]
            if declined:
                break  # the parser dropped what followed in its read: so is the rest of this
            if self._closing_came_whole(parsed):
                break  # RFC 9112 9.6: nothing after it is read
            start = end
        self._last = (self._last + data)[-(len(_HEAD_END) - 1) :]
        return messages, False, b""

    def _line_refused(self, segment: bytes, parsed: list[Parsed]) -> bool:
        """Whether the request whose head `segment` ended has a request line the gateway
        refuses though the parser took it (llhttp takes `GET  /` with two spaces, or a line
        without a version as HTTP/0.9): it is put in its place as the error, and nothing more
        is read. A `#fragment` is left to the gateway's own answer."""
        kept = self._since_head
        kept += segment
        del kept[:-_HEAD_KEPT]
        self._head_start += segment[: _LINE_KEPT - len(self._head_start)]
        if not parsed:
            self._body_may_end(segment)
            return False
        message, body = parsed[-1]
        self._head_kept_whole = body.is_eof()
        self._follow_body(message, body, whole_head=segment.endswith(_HEAD_END))
        checked = isinstance(self._parser, LineCheckedParser)
        line = None if checked or isinstance(message, _ErrInfo) else request_line(kept, message)
        self._since_head = bytearray()
        self._head_start = bytearray()
        if line is None:
            return False
        fault = request_line_fault(line, SERVER_METHODS)
        if fault is None or fault == "fragment":
            return False
        error = refuse_line(fault)
        parsed[-1] = (_ErrInfo(error.code, error, error.message), EMPTY_PAYLOAD)
        self.line_refused = True
        if names_head(line):
            self.refused_method = "HEAD"
        return True

    def _follow_body(
        self, message: RawRequestMessage | _ErrInfo, body: StreamReader, *, whole_head: bool
    ) -> None:
        """Follow the body of the request just parsed, still to come after its head (the bytes
        fed ended with that head: `whole_head`), to where it ends: a chunked one ends where a
        head would (its last chunk, and trailers if any, end in an empty line); one of
        `Content-Length` bytes is cut there (`_cut_at_body_end`). Once it has ended, the next
        head is kept from its first byte, so that its request line is found (its refusal is
        answered to its method: a HEAD's without content)."""
        self._body = self._length_left = None
        if isinstance(message, _ErrInfo) or body.is_eof() or not whole_head or body.total_bytes:
            return
        self._body = body
        if not message.chunked:
            length = message.headers.get("Content-Length", "")
            self._length_left = int(length) if length.isdigit() else None
            if self._length_left is None:
                self._body = None  # (not a body the gateway reads: it is never taken whole)

    def _cut_at_body_end(self, ends: list[int], at: int, size: int) -> None:
        """Add to the offsets of a read of `size` bytes where it is still to be cut (`ends`,
        past `at`) the end of the Content-Length body being received, when it ends inside
        the read."""
        if self._body is None or self._length_left is None:
            return
        cut = at + self._length_left
        if cut < size and cut not in ends:
            bisect.insort(ends, cut)

    def _body_may_end(self, segment: bytes) -> None:
        """`segment`, fed, held bytes of the body followed, and no head: once that body has
        ended with the segment (a Content-Length one is cut at its end; a chunked one's last
        bytes are a head's end), what is fed next begins a head."""
        body = self._body
        if body is None:
            return
        if self._length_left is not None:
            self._length_left = max(0, self._length_left - len(segment))
        if not body.is_eof():
            return
        self._body = None
        ended = self._length_left == 0 if self._length_left is not None else None
        self._length_left = None
        if ended is False or (ended is None and not segment.endswith(_HEAD_END)):
            return  # (it ended where it was not followed to: the next head is not known)
        self._head_kept_whole = True
        self._since_head = bytearray()
        self._head_start = bytearray()

    def _check_line_start(self, segment: bytes) -> None:
        """Refuse a head whose first byte no request line begins with (a TLS hello on this
        plain port) as it arrives, as llhttp does: aiohttp's pure-Python parser waits for a
        line end that a TLS hello never sends, and the sender for an answer until the idle
        timeout; and, under either parser, one whose empty lines before its request line are
        not each a CRLF. Raises RequestLineRefused."""
        if not self._head_kept_whole:
            return
        begun = bytes(self._since_head[:_LINE_START]) + segment[:_LINE_START]
        start = begun.lstrip(b"\r\n")
        empty = begun[: len(begun) - len(start)]
        if not start:
            empty = empty.removesuffix(b"\r")  # (its LF may be in the next read)
        if empty.replace(b"\r\n", b""):
            # An empty line before the request line ended by a bare LF (or CR): llhttp takes
            # one, aiohttp's pure-Python parser and the operators' port refuse it, as they
            # refuse every line not ended by CRLF.
            raise refuse_line("bad_request_line")
        if not isinstance(self._parser, LineCheckedParser):
            return
        if start.startswith(_TLS_RECORD):
            # (What llhttp says of it, word for word.)
            raise RequestLineRefused(code=400, message="Received HTTPS traffic on an HTTP port")
        if start and not _TOKEN_BYTE.fullmatch(start[:1]):
            raise refuse_line("bad_request_line")

    def method_read(self, more: bytes = b"") -> str | None:
        """The method of the request head being received (`more`: its bytes not yet fed), once
        its request line has come whole and is one the gateway takes, as the operators' port
        reads a method before refusing the rest of a head; HEAD for a line naming it, whole
        or not, taken or not (`request_head.names_head`); else None. A refusal's answer is
        to that method: a HEAD's carries no content (RFC 9110 9.3.2), or its client would
        read the content as the next answer."""
        if not self._head_kept_whole:
            return None
        head = bytes(self._head_start) + more[: _LINE_KEPT - len(self._head_start)]
        line, ended, _ = head.lstrip(b"\r\n").partition(b"\r\n")
        if names_head(line):
            # A line refused (too long, another version …) is answered as the operators' port
            # answers it: one naming HEAD without content, any other as aiohttp answers a
            # request it could not read.
            return "HEAD"
        if not ended or request_line_fault(line, SERVER_METHODS) is not None:
            return None
        return line.split(b" ", 1)[0].decode("ascii")

    def _line_error(self, segment: bytes, error: HttpProcessingError) -> HttpProcessingError:
        """The error to answer a head the parser refused with: the request line's, when it has
        a method the gateway does not take or another version (501, 505), as on the operators'
        port, though llhttp refused it first for its target (`M-SEARCH *` …) or its version
        (`PRI * HTTP/2.0`) without quoting the line; else the parser's."""
        if not self._head_kept_whole or isinstance(error, RequestLineRefused):
            return error
        head = bytes(self._since_head[-_HEAD_KEPT:]) + segment[:_HEAD_KEPT]
        line = head.lstrip(b"\r\n").split(b"\r\n", 1)[0]
        fault = request_line_fault(line, SERVER_METHODS)
        if fault in ("not_implemented", "version_not_supported"):
            return refuse_line(fault)
        return error

    def _check_chunk_sizes(self, data: bytes) -> None:
        """Check the chunk sizes in `data`, the chunked body followed still being received
        (raises ChunkSizeTooLong, a parse error like the parser's own). A body the parser has
        ended is no longer followed, whatever came after it."""
        assert self._chunk_sizes is not None and self._chunked_body is not None
        if self._chunked_body.is_eof():
            self._chunked_body = self._chunk_sizes = None
        else:
            self._chunk_sizes.check(data)
            self.trailered = self._chunk_sizes.done and self._chunk_sizes.trailered

    def _follow_chunked(self, parsed: list[Parsed], *, uncut: bool) -> None:
        """Begin following the chunk sizes of the last request of `parsed`, if its body is chunked
        and still to come: cut where its head ends, its body's bytes are all fed after it.
        A chunked request in bytes fed `uncut` past MAX_CUTS had its body fed with its head,
        its sizes unchecked: it is refused as a parse error (a sender that pipelines more
        than MAX_CUTS requests in one packet is no sender of alerts)."""
        if uncut and any(getattr(message, "chunked", False) for message, _ in parsed):
            raise TransferEncodingError("chunked body behind too many requests in one read")
        message, body = parsed[-1]
        if getattr(message, "chunked", False) and not body.is_eof():
            self._chunked_body, self._chunk_sizes = body, ChunkSizes()

    def _closing_came_whole(self, parsed: list[Parsed]) -> bool:
        """Whether a request that closes its connection has come whole (its body too): nothing
        after it is parsed (`closed`). llhttp refuses what follows one, which `_failed_after`
        ignores; aiohttp's pure-Python parser would read on, or wait for a line end."""
        for message, body in parsed:
            self._closing_body = body if getattr(message, "should_close", False) else None
        if self._closing_body is None or not self._closing_body.is_eof():
            return False
        self._closing_body = None
        self.closed = True
        return True

    def _upgrade_declined(self, parsed: list[Parsed]) -> bool:
        """Whether a request asking for an Upgrade the parser does not take has come whole: it
        stops there and the rest of what it was fed is dropped (llhttp's way, which the
        connection answers with `Connection: close`), and nothing more is parsed. aiohttp's
        pure-Python parser reads on past such a request once its body has come: the requests
        it parsed behind it are dropped from `parsed`, as llhttp never parses them."""
        for index, (message, body) in enumerate(parsed):
            if self._upgrade_body is not None and self._upgrade_body.is_eof():
                del parsed[index:]
                break
            self._upgrade_body = body if getattr(message, "upgrade", False) else None
        if self._upgrade_body is None or not self._upgrade_body.is_eof():
            return False
        self._upgrade_body = None
        self.closed = True
        return True

    def _failed_after(self, messages: list[Parsed], exc: HttpProcessingError) -> list[Parsed]:
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


class LineCheckedParser(HttpRequestParserPy):
    """aiohttp's pure-Python request parser, refusing a request line as the gateway does
    before reading it its own way (it takes `get` for GET, and refuses `BREW *` for its
    target rather than its method), and a head as llhttp refuses it where the two differ:
    a Transfer-Encoding value ending in a tab (which the pure-Python parser reads as
    `chunked` and a proxy in front may not), and a Content-Length past 64 bits (which llhttp
    refuses as an overflow and the pure-Python parser reads as a large body); two
    Content-Lengths are refused in llhttp's words."""

    def parse_message(self, lines: list[bytes]) -> RawRequestMessage:
        fault = request_line_fault(lines[0], SERVER_METHODS) if lines else None
        if fault is not None and fault != "fragment":
            raise refuse_line(fault)
        lengths = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.lower()
            lengths += name == b"content-length"
            if lengths > 1:
                # (llhttp's reason, word for word: the answer says the same whichever parser.)
                raise BadHttpMessage("Duplicate Content-Length")
            if name == b"transfer-encoding" and value.rstrip(b" \t") != value.rstrip(b" "):
                # (llhttp's reason, word for word.)
                raise BadHttpMessage("Request has invalid `Transfer-Encoding`")
            length = value.strip(b" \t")
            if name == b"content-length" and length.isdigit() and int(length) > _MAX_LENGTH:
                raise BadHttpMessage("Content-Length overflow")
        return super().parse_message(lines)


def request_line(head: bytes | bytearray, message: RawRequestMessage) -> bytes | None:
    """The request line of `message`, whose head the bytes `head` end with, or None when they
    do not hold it all. Each of its header lines is one line (neither parser takes a folded
    one), so the request line is the one before the last `len(raw_headers)`."""
    if not head.endswith(_HEAD_END):
        return None
    count = len(message.raw_headers)
    lines = bytes(head[: -len(_HEAD_END)]).rsplit(b"\r\n", count + 1)
    if len(lines) < count + 1 or (len(lines) == count + 1 and len(head) >= _HEAD_KEPT):
        return None  # (what was kept may begin inside the line)
    # The bytes before it may end with a body's, without a line end: the line begins at the
    # method (no target or version the parser takes holds it and a space).
    line = lines[-(count + 1)]
    start = line.rfind(message.method.encode("latin-1") + b" ")
    return None if start < 0 else line[start:]


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


def refuse_faulty_framing(
    messages: MutableSequence[Parsed], first: int
) -> RawRequestMessage | None:
    """Put a parse error (the answer `framing_fault` names) in place of the first request from
    `first` on whose framing is faulty, and drop what was parsed after it: its body is not the
    gateway's to guess at, nor what follows. The request refused, if any."""
    for index in range(first, len(messages)):
        message = messages[index][0]
        if isinstance(message, _ErrInfo):
            continue
        fault = framing_fault(message)
        if fault is None:
            continue
        status, reason = fault
        error = HttpProcessingError(code=status, message=reason)
        messages[index] = (_ErrInfo(status, error, reason), EMPTY_PAYLOAD)
        while len(messages) > index + 1:
            messages.pop()
        return message
    return None


def framing_fault(message: RawRequestMessage) -> tuple[int, str] | None:
    """Why a request whose head parsed is still not read, or None. The parser takes request
    lines of HTTP/0.9 and HTTP/2.0 and frames them as HTTP/1.1 (aiohttp would answer them in
    kind): the gateway speaks HTTP/1.0 and 1.1 only (505). RFC 9112 6.1 has a server treat an
    HTTP/1.0 request with Transfer-Encoding as faultily framed: a proxy in front reading it as
    1.0 frames its body by the end of the stream, not by its chunks (400). So is a request
    whose Transfer-Encoding names no coding (the parser takes an empty one and frames the body
    by its Content-Length; RFC 9112 6.3 says its length cannot be determined, and a proxy may
    go by the header's presence instead): 400. A target aiohttp cannot make a request of is
    400 too (see `target_readable`). (Reasons hold no colon: `bad_http.what_was_wrong` cuts
    there.)"""
    if message.version not in (HttpVersion10, HttpVersion11):
        return 505, "HTTP version not supported (send HTTP/1.1)"
    if message.version == HttpVersion10 and "Transfer-Encoding" in message.headers:
        return 400, "Transfer-Encoding in an HTTP/1.0 request"
    if "Transfer-Encoding" in message.headers and not message.chunked:
        return 400, "Transfer-Encoding that is not chunked"
    if not target_readable(message.url):
        return 400, "request target not readable"
    return None


def target_readable(url: URL) -> bool:
    """Whether aiohttp can make a request of this target. It reads an absolute-form (or
    CONNECT's authority-form) target's host while making the request, outside every handler:
    a host that is not a name (`xn--`, not IDNA) raises there, and the connection would be
    left open, unanswered, holding its slot for good."""
    if not url.absolute:
        return True
    try:
        url.host  # noqa: B018 (read for what it raises)
        url.relative()
    except (UnicodeError, ValueError):
        return False
    return True
