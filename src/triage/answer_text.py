"""How an HTTP answer's text is read when its headers or byte order mark would have httpx2 fail.

Apart from `triage.sinks.aio` (which re-exports these for its callers) so that `triage health`,
which reads its probe's answer the same way, does not import aiohttp (~90 ms of CPU at every
container health check) for them.
"""

from __future__ import annotations

import codecs
import functools

import httpx2


@functools.lru_cache(maxsize=64)
def _reads_any_bytes(charset: str) -> bool:
    """Whether Python decodes any bytes in `charset` to text without failing (as httpx2 reads
    a body: replacing what is not in it): not a bytes-to-bytes codec (`zlib`, `base64`,
    `hex`), nor one that refuses to replace (`idna`) or needs a byte order mark (`utf-16`)."""
    try:
        decoder = codecs.getincrementaldecoder(charset)(errors="replace")
        return isinstance(decoder.decode(b"a\x80\xff\x00", final=True), str)
    except Exception:  # anything a codec may raise: it cannot read any bytes
        return False


#: The byte order marks a body may start with, and the codec that reads each (and drops the
#: mark): UTF-8's, and UTF-16's in either order (Python's `utf-16` reads the order from it).
#: Only these three, as WHATWG Encoding's "decode" has it (FF FE 00 00 is UTF-16's too).
_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (codecs.BOM_UTF16_LE, "utf-16"),
)


def marked_encoding(body: bytes) -> str | None:
    """The codec `body`'s byte order mark names, or None when it starts with none."""
    for mark, encoding in _BYTE_ORDER_MARKS:
        if body.startswith(mark):
            return encoding
    return None


def readable_text(answer: httpx2.Response) -> None:
    """Have `answer`'s text read as its byte order mark says when its body (already read)
    starts with one (`marked_encoding`), else as UTF-8 when the charset it names cannot read
    any bytes (`_reads_any_bytes`): httpx2 would raise (UnicodeError, TypeError,
    AssertionError) on `.text`, and a client (the OpenAI SDK, reading an error answer) would
    lose the status."""
    try:
        marked = marked_encoding(answer.content)
    except httpx2.ResponseNotRead:  # the transport's own answers: `_MarkedAnswer` reads it
        marked = None
    charset = answer.charset_encoding
    if marked is not None:
        answer.encoding = marked
    elif charset is not None and not _reads_any_bytes(charset.lower()):
        answer.encoding = "utf-8"
