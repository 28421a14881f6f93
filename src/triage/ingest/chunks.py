"""The chunk sizes of a chunked body, followed through the bytes its parser is fed, so that a size
spelt with more hex digits than any body needs is refused before the parser reads it.

The parser (llhttp) checks a chunk size's value, not its spelling: `0000…0001e9` (any number of
leading zeros) is 489 to it. A proxy in front that reads a fixed number of digits reads the
first of them as a size of 0, the last chunk, and what follows as the next request: the two
disagree on where requests end (request smuggling). Go's net/http refuses a size of more than 16
hex digits (internal/chunked.go `parseHexUint`: "http chunk length too large") and h11 one of
more than 20 (`_abnf.py`: `chunk_size = HEXDIG{1,20}`), leading zeros counted in both. The
gateway counts them too, with a bound of its own: 8 digits spell 4 GiB, far past any body it
reads, and no sender pads a size further.
"""

from __future__ import annotations

import re

from aiohttp.http_exceptions import TransferEncodingError

from triage.ingest.bad_http import MAX_FIELD_BYTES

#: The most hex digits a chunk size may be spelt with, leading zeros counted.
MAX_SIZE_DIGITS = 8
#: The most bytes a chunk-size line's extensions may take: as many as a header line.
MAX_EXTENSION_BYTES = MAX_FIELD_BYTES

#: A chunk-size line's extensions, as RFC 9112 7.1.1 spells them (`;` token [ `=` ( token /
#: quoted-string ) ], repeated) without the optional whitespace around `;` and `=`, which llhttp
#: refuses (a space anywhere in them, an empty name, an unclosed quote): aiohttp's pure-Python
#: parser skips them unread, and a proxy in front may read them otherwise.
_TOKEN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED = rb'"(?:[\t !#-\[\]-~\x80-\xff]|\\[\t -~\x80-\xff])*+"'
_EXTENSIONS = re.compile(rb"(?:;%s(?:=(?:%s|%s))?+)*+" % (_TOKEN, _TOKEN, _QUOTED))

_HEX_DIGITS = re.compile(rb"[0-9A-Fa-f]*")
#: A whole chunk-size line: its digits, then its extensions (the parser checks them) and LF.
#: Possessive, so a line whose LF has not come yet fails at its end: given back one at a
#: time, the digits would each rescan the rest of the read (64 KiB of hex took 1.4 s).
_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]*+)[^\n]*+\n")

# Where the bytes fed next stand in the body.
_SIZE = 0  # a chunk-size line's digits
_LINE = 1  # the rest of a chunk-size line (extensions), up to its LF
_DATA = 2  # a chunk's data and the CRLF after it
_TRAILER_START = 3  # the start of a trailer line, or the empty line that ends the body
_TRAILER_LINE = 4  # the rest of a trailer line, up to its LF
_DONE = 5  # the body has ended: what follows is not its


#: Trailer fields refused (RFC 9110 6.5.1: a field that frames the message or routes it cannot
#: be a trailer). llhttp refuses a Content-Length there; aiohttp's pure-Python parser drops
#: it, and a proxy in front might heed it: the gateway refuses them, whichever parser reads.
_FRAMING_FIELDS = frozenset({b"content-length", b"transfer-encoding", b"host"})
#: The longest of them, with its colon: a trailer name longer than this is none of them.
_FIELD_NAME_BYTES = max(map(len, _FRAMING_FIELDS)) + 1


class FramingTrailer(TransferEncodingError):
    """Raised for a trailer field of _FRAMING_FIELDS."""

    def __init__(self) -> None:
        super().__init__("a framing field in a trailer")


class ChunkSizeTooLong(TransferEncodingError):
    """Raised for a chunk size of more than MAX_SIZE_DIGITS hex digits."""

    def __init__(self) -> None:
        # (No colon: `bad_http.what_was_wrong` cuts there.)
        super().__init__(f"chunk size of more than {MAX_SIZE_DIGITS} hex digits")


class BareLfTrailer(TransferEncodingError):
    """Raised for a trailer line ended by a bare LF: llhttp refuses one; aiohttp's pure-Python
    parser reads on to a CRLF, taking what follows (a pipelined request's head) as trailer
    lines, and a proxy in front may end the line there."""

    def __init__(self) -> None:
        # (No colon: `bad_http.what_was_wrong` cuts there.)
        super().__init__("a trailer line not ended by CRLF")


class BadChunkExtension(TransferEncodingError):
    """Raised for a chunk-size line whose extensions are not _EXTENSIONS, or are longer than
    MAX_EXTENSION_BYTES."""

    def __init__(self) -> None:
        # (No colon: `bad_http.what_was_wrong` cuts there.)
        super().__init__("a chunk extension outside RFC 9112 7.1.1")


def check_extensions(extensions: bytes) -> None:
    """Raise BadChunkExtension unless `extensions`, what follows a chunk size up to the LF
    that ends its line (the CR before it left to the parser), are _EXTENSIONS."""
    if extensions.endswith(b"\r"):
        extensions = extensions[:-1]
    if len(extensions) > MAX_EXTENSION_BYTES or not _EXTENSIONS.fullmatch(extensions):
        raise BadChunkExtension()


class ChunkSizes:
    """Follows one chunked body's framing, from its first byte, through every read. The work is
    a few steps per chunk and per line, whatever their length: data is skipped by its size,
    a line's end found by `bytes.find`, and a size's digits matched at most once each (a size
    is refused as soon as its digits pass the bound). The parser checks the framing itself
    (CRLFs, the characters of extensions and trailers): this only counts digits, and stops
    at the body's end."""

    __slots__ = (
        "_before",
        "_data_left",
        "_digits",
        "_extensions",
        "_last",
        "_name",
        "_state",
        "trailered",
    )

    def __init__(self) -> None:
        self._state = _SIZE
        #: The digits of the size being read (a size may straddle two reads).
        self._digits = b""
        #: Bytes of the chunk's data and its CRLF still to come.
        self._data_left = 0
        #: The last chunk (size 0) has been read: its line leads to the trailers.
        self._last = False
        #: The start of the trailer line being read, up to _FIELD_NAME_BYTES (None: past it).
        self._name: bytes | None = b""
        #: The extensions of the chunk-size line being read, when it straddles two reads.
        self._extensions = b""
        #: The trailer section holds a field (or a line the parser may refuse).
        self.trailered = False
        #: The last byte of the previous read: the CR before an LF that begins this one.
        self._before = b""

    @property
    def done(self) -> bool:
        """The body's last chunk and trailer section have passed."""
        return self._state == _DONE

    def check(self, data: bytes) -> None:
        """Follow `data`, the next bytes of the body (and maybe what follows it); raises
        ChunkSizeTooLong at a size of too many digits."""
        try:
            self._follow(data)
        finally:
            self._before = data[-1:] or self._before

    def _follow(self, data: bytes) -> None:
        at, end = 0, len(data)
        while at < end:
            state = self._state
            if state == _DATA:
                taken = min(self._data_left, end - at)
                self._data_left -= taken
                at += taken
                if self._data_left == 0:
                    self._state = _SIZE
            elif state == _SIZE:
                at = self._size_line(data, at)
            elif state == _TRAILER_START:
                at = self._trailer_start(data, at)
            elif state == _DONE:
                return
            else:  # the rest of a line: up to and past its LF
                if state == _TRAILER_LINE and self._name is not None:
                    self._trailer_name(data, at)
                at = self._line_end(data, at)

    def _size_line(self, data: bytes, at: int) -> int:
        """Read a chunk-size line from `at`: whole in one match when it is all in `data` (the
        common case), else its digits alone; where reading goes on."""
        if not self._digits:
            line = _SIZE_LINE.match(data, at)
            if line is not None:
                digits = line.group(1)
                if len(digits) > MAX_SIZE_DIGITS:
                    raise ChunkSizeTooLong()
                check_extensions(data[line.end(1) : line.end() - 1])
                self._begin_chunk(int(digits, 16) if digits else 0)
                self._state = _TRAILER_START if self._last else _DATA
                return line.end()
        return self._size_digits(data, at)

    def _begin_chunk(self, size: int) -> None:
        self._last = size == 0
        self._data_left = size + len(b"\r\n")

    def _size_digits(self, data: bytes, at: int) -> int:
        """Read a size's digits from `at`, the line's end not yet received; where reading
        goes on."""
        match = _HEX_DIGITS.match(data, at, at + MAX_SIZE_DIGITS + 1 - len(self._digits))
        assert match is not None  # (the pattern matches the empty string)
        self._digits += match.group()
        if len(self._digits) > MAX_SIZE_DIGITS:
            raise ChunkSizeTooLong()
        if match.end() == len(data):
            return match.end()  # the digits may go on in the next read
        self._begin_chunk(int(self._digits, 16) if self._digits else 0)
        self._digits = b""
        self._state = _LINE
        return match.end()

    def _line_end(self, data: bytes, at: int) -> int:
        """Skip to just past the LF ending the line `at` is in (a chunk-size line's or a
        trailer's); where reading goes on."""
        newline = data.find(b"\n", at)
        if self._state == _LINE:
            self._extensions += data[at : len(data) if newline == -1 else newline]
            if len(self._extensions) > MAX_EXTENSION_BYTES + len(b"\r"):
                raise BadChunkExtension()
        if newline == -1:
            return len(data)
        if self._state == _TRAILER_LINE:
            before = data[newline - 1 : newline] if newline > 0 else self._before
            if before != b"\r":
                raise BareLfTrailer()
        if self._state == _LINE:
            check_extensions(self._extensions)
            self._extensions = b""
            self._state = _TRAILER_START if self._last else _DATA
        else:
            self._state = _TRAILER_START
        return newline + 1

    def _trailer_name(self, data: bytes, at: int) -> None:
        """Read the start of a trailer line from `at` (its name may straddle two reads);
        raises FramingTrailer for one of _FRAMING_FIELDS."""
        assert self._name is not None
        start = self._name + data[at : at + _FIELD_NAME_BYTES - len(self._name)]
        name, colon, _ = start.partition(b":")
        if colon:
            self._name = None
            if name.strip(b" \t").lower() in _FRAMING_FIELDS:
                raise FramingTrailer()
        elif len(start) >= _FIELD_NAME_BYTES or b"\n" in start:
            self._name = None
        else:
            self._name = start

    def _trailer_start(self, data: bytes, at: int) -> int:
        """At the start of a line after the last chunk: an empty line (CRLF) ends the body, any
        other is a trailer field; where reading goes on."""
        if data.startswith(b"\r\n", at):
            self._state = _DONE
            return at + 2
        if data[at] == ord("\r"):
            return at + 1  # the CR of the empty line (or of nothing the parser takes)
        if data[at] == ord("\n"):
            self._state = _DONE
            return at + 1
        self._state = _TRAILER_LINE
        self._name = b""
        self.trailered = True
        return at
