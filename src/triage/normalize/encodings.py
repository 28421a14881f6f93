"""A body of bytes in an encoding other than UTF-8, read as the webhook gateway reads it
(`triage.ingest.validate`), so `triage normalize FILE` shows what the gateway would queue.

UTF-16 and UTF-32 are read by their byte order mark (PowerShell 5's `Out-File` and
`Set-Content`, .NET's writers), else, as RFC 4627 §3 tells JSON's encodings apart, by the zero
bytes of its first two characters (ASCII in any JSON text): UTF-8 JSON holds no zero byte, so
neither reading can take a UTF-8 body. A gzip-compressed body sent without its
`Content-Encoding` is refused saying so, rather than as text that "is not UTF-8 at byte 1".
Bodies handed over as text (SQS's) are left as they are.
"""

from __future__ import annotations

import codecs

from triage.decode import MAX_BODY_BYTES
from triage.errors import DecodeError

#: Longest first: UTF-32LE's mark starts with UTF-16LE's.
_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: RFC 4627 §3: where the zero bytes of the first two (ASCII) characters fall, per encoding.
_ZEROS = (
    ((True, True, True, False), "utf-32-be"),
    ((False, True, True, True), "utf-32-le"),
    ((True, False, True, False), "utf-16-be"),
    ((False, True, False, True), "utf-16-le"),
)
GZIP_MAGIC = b"\x1f\x8b"
#: Why a body that starts with `GZIP_MAGIC` is refused, and what to do (the gateway says it too).
GZIP_UNLABELLED = (
    "body is gzip-compressed (it starts with gzip's magic bytes 1f 8b) and its sender said "
    "nothing of it: send it with `Content-Encoding: gzip` (the gateway inflates it), or "
    "uncompressed"
)


def as_text(body: str | bytes) -> str | bytes:
    """`body` decoded when its bytes are UTF-16 or UTF-32, or refused when they are gzip's;
    else `body` unchanged, for the decoder to read as UTF-8."""
    if not isinstance(body, bytes | bytearray):
        return body
    raw = bytes(body)
    if len(raw) > MAX_BODY_BYTES:
        return body  # refused as too large by the decoder, before anything reads it
    if raw.startswith(GZIP_MAGIC):
        raise DecodeError(GZIP_UNLABELLED)
    codec = _codec(raw)
    if codec is None:
        return body
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        name = codec.upper().removesuffix("-BE").removesuffix("-LE")
        raise DecodeError(f"body is not {name}: {exc.reason} at byte {exc.start}") from None


def _codec(raw: bytes) -> str | None:
    """The UTF-16 or UTF-32 codec `raw` is in by its own evidence, else None."""
    for mark, codec in _MARKS:
        if raw.startswith(mark):
            return codec
    if len(raw) < 4:
        return None
    zeros = tuple(byte == 0 for byte in raw[:4])
    return next((codec for pattern, codec in _ZEROS if zeros == pattern), None)
