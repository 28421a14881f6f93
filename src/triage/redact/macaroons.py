"""Macaroons, the bearer credentials of Lightning's LND, Juju and Candid: read by their
serialised shape and kept only if their bytes say they are no macaroon."""

from __future__ import annotations

import base64
import binascii
import re

from triage.redact.rule import _Rule, _rule, holds_run

#: A macaroon as libmacaroons writes it: v1 as base64 (`MDAx…`: its first packet's length in
#: hex, then `location`), v2's binary as base64 (`AgE…`) or as hex (`0201…`, as `lncli` prints
#: one and gRPC's `macaroon` metadata carries it). Not inside a longer run of such characters;
#: after a name's `=` (`LND_MACAROON=0201…`, a query's `macaroon=AgE…`) too.
_MACAROON_BASE64 = (
    r"(?<![A-Za-z0-9+/_-])(?P<b64>(?:MDA|AgE)[A-Za-z0-9+/_-]{60,16384}+={0,2}+)"
    r"(?![A-Za-z0-9+/=_-])"
)
_MACAROON_HEX = r"(?<![A-Za-z0-9+/_-])(?P<hex>0201[0-9a-fA-F]{76,32768}+)(?![A-Za-z0-9+/=_-])"
#: v1's first packet: four hex digits of length, then its `location` field.
_V1_START = re.compile(rb"[0-9a-f]{4}location ")


def _v2(data: bytes) -> bool:
    """Whether `data` starts as a v2 macaroon: version 2, a location field of printable
    ASCII (its length one varint byte), then the identifier's field."""
    if len(data) < 8 or data[0] != 2 or data[1] != 1 or not 0 < data[2] < 128:
        return False
    end = 3 + data[2]
    location = data[3:end]
    return len(data) > end and data[end] == 2 and all(32 <= byte < 127 for byte in location)


def _decoded(text: str) -> bytes:
    """`text`'s bytes as base64, either alphabet, padded or not; b"" if it is none."""
    padded = text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4)
    try:
        return base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
    except (binascii.Error, ValueError):
        return b""


def _macaroon(match: re.Match[str]) -> str:
    """A macaroon (`_MACAROON`) replaced if its bytes start as one; else the match unchanged
    (base64 that happens to start `MDA`, a hex run that starts `0201`)."""
    if match.re.groupindex.get("hex") is not None:
        text = match["hex"]
        data = bytes.fromhex(text) if len(text) % 2 == 0 else b""
        found = _v2(data)
    else:
        data = _decoded(match["b64"])
        found = _v2(data) or _V1_START.match(data) is not None
    return "[REDACTED:token]" if found else match[0]


MACAROON_RULES: tuple[_Rule, ...] = (
    _rule(_MACAROON_BASE64, _macaroon, "MDA", "AgE"),
    # As hex, gated by a run as long as its shortest (no needle: a `0` would start a new one
    # that every text's search for needles stops at).
    _rule(_MACAROON_HEX, _macaroon, gate=holds_run(80)),
)
