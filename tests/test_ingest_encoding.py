"""The gateway's own Content-Encoding decoding (ingest/encoding.py): what each coding gives,
and that a truncated, corrupted or unknown encoding is refused rather than guessed at."""

from __future__ import annotations

import gzip
import zlib

import pytest

from triage.ingest.encoding import BadEncoding, UnsupportedEncoding, decoder_for

BODY = b'{"title": "disk full", "dedup_key": "disk-1"}' * 50


def decode(values: list[str], data: bytes, room: int = 10**6, step: int = 7) -> bytes:
    """`data` fed in chunks of `step` bytes, as a slow sender's would arrive."""
    decoder = decoder_for(values)
    out = b"".join(decoder.feed(data[i : i + step], room) for i in range(0, len(data), step))
    decoder.end()
    return out


def gz(data: bytes) -> bytes:
    """gzip with a fixed time in its header, so the test ids are the same in every worker."""
    return gzip.compress(data, mtime=0)


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("values", "encoded"),
    [
        ([], BODY),
        (["identity"], BODY),
        (["gzip"], gz(BODY)),
        (["x-gzip"], gz(BODY)),
        (["GZip ", "identity"], gz(BODY)),
        (["gzip"], gz(BODY[:100]) + gz(BODY[100:])),  # two members
        (["deflate"], zlib.compress(BODY)),
        (["deflate"], raw_deflate(BODY)),  # "deflate" as some senders mean it
    ],
    ids=["none", "identity", "gzip", "x-gzip", "gzip-identity", "two-members", "zlib", "raw"],
)
def test_each_supported_coding_gives_the_body(values: list[str], encoded: bytes) -> None:
    """No coding, identity, gzip (and its x-gzip alias, several members) and deflate (zlib or
    raw) all give the body back, whatever the chunks it arrives in."""
    assert decode(values, encoded) == BODY
    assert decode(values, encoded, step=64 * 1024) == BODY


@pytest.mark.parametrize(
    ("values", "encoded"),
    [
        (["gzip"], gz(BODY)[:-8]),  # no CRC and length: cut short
        (["gzip"], gz(BODY)[:-4] + b"\x00\x00\x00\x00"),  # a wrong length
        (["gzip"], gz(BODY)[:-8] + b"\xde\xad\xbe\xef" + gz(BODY)[-4:]),
        (["deflate"], zlib.compress(BODY)[:-4]),  # no checksum
        (["deflate"], zlib.compress(BODY) + b"trailing"),
        (["gzip"], b"\x00\x01 not compressed at all"),
        (["deflate"], b"\x00\x01 not compressed at all"),
        (["gzip"], b""),
    ],
    ids=[
        "gzip-cut",
        "gzip-length",
        "gzip-crc",
        "deflate-cut",
        "deflate-trailing",
        "not-gzip",
        "not-deflate",
        "empty-gzip",
    ],
)
def test_a_stream_cut_short_or_corrupt_is_bad_encoding(values: list[str], encoded: bytes) -> None:
    """A truncated stream, a wrong checksum or length, bytes after the end, or bytes that were
    never compressed: BadEncoding, never a body that is only part of what was sent."""
    with pytest.raises(BadEncoding):
        decode(values, encoded)


@pytest.mark.parametrize("values", [["br"], ["zstd"], ["gzip, gzip"], ["gzip", "deflate"], ["x"]])
def test_unknown_or_stacked_codings_are_unsupported(values: list[str]) -> None:
    """A coding the gateway does not decode, or more than one, is refused by name."""
    with pytest.raises(UnsupportedEncoding):
        decoder_for(values)


def test_a_bomb_is_never_inflated_past_the_room_given() -> None:
    """Output stops one byte past `room` however much the input would expand to."""
    bomb = gz(b" " * (64 * 1024 * 1024))
    decoder = decoder_for(["gzip"])
    assert len(decoder.feed(bomb, 1000)) == 1001


def test_a_body_of_many_tiny_gzip_members_is_refused() -> None:
    """A gzip body of more than MAX_GZIP_MEMBERS members is BadEncoding; up to it, it decodes."""
    # Each member costs a new inflater: 1 MiB of 20-byte empty members took ~36x the CPU of one
    # 1 MiB member, on the event loop; bgzip makes 17 of 1 MiB.
    from triage.ingest.encoding import MAX_GZIP_MEMBERS

    member = gz(b"")
    assert decode(["gzip"], gz(b"{}") + member * (MAX_GZIP_MEMBERS - 1), step=4096) == b"{}"
    with pytest.raises(BadEncoding, match="gzip members"):
        decode(["gzip"], member * 50_000, step=65536)
