"""Runs of base64 that may hide a secret: where they start and end (on one line, wrapped over
lines, their line breaks escaped inside a JSON string), the text a run decodes to, and a run
replaced whole by a placeholder when that text holds something to redact (`_redacted_base64`).
Discord bot tokens are known here too: their first part is a base64 run. The pass that calls
these is `Redactor`'s (`_scrub_base64`).
"""

from __future__ import annotations

import binascii
import re
import zlib
from collections.abc import Callable

from triage.redact.disguises import _hides, _layout_free, _visible
from triage.redact.rule import _PLACEHOLDER_FOUND

#: A run of base64 (standard or URL-safe) long enough to hide a secret: 16 characters (12
#: bytes) to 8,192 (a Kubernetes secret's value, a docker config), with its padding; not a
#: name before `=` (`SomeLongSettingName=x`), which is no base64 string. Possessive: each run
#: is read once, and a longer run is read to its end and not decoded.
#: Where a run starts: after no base64 character, or after an escaped line break or tab inside
#: a JSON string (its `n`, `r` or `t` is not the run's first character).
_BASE64_START = r"(?<![A-Za-z0-9+/_-](?<!\\[nrt]))(?!(?<=\\)[nrt])"
_BASE64_LINE = (
    rf"{_BASE64_START}[A-Za-z0-9+/_-]{{16,8192}}+"
    r"(?:={1,2}(?![A-Za-z0-9+/=_-])|(?![A-Za-z0-9+/=_-]))"
)
_BASE64_ONE_LINE = re.compile(_BASE64_LINE)
#: … and the lines after it that are base64 too (`base64` wraps at 76 columns, PEM at 64; a
#: YAML block indents them), at most 200: a run is decoded joined if it was wrapped at one
#: width, else line by line (`_redacted_base64`). Each line is read once; a line that ends the
#: run wrongly (`key=value`) is given back whole.
_BASE64_RUN = re.compile(
    rf"{_BASE64_START}[A-Za-z0-9+/_-]{{16,8192}}+"
    # A last line of 2 or 3 characters (the tail of a run whose length is not a multiple of
    # 4 after wrapping) joins the run only with its padding after it: `b2s=`, `aw==`.
    # A line break raw or escaped inside a JSON string (`\n`: a Kubernetes secret in a JSON log).
    r"(?:(?:\r?\n|(?:\\r)?\\n)[ \t]{0,16}+"
    r"(?:[A-Za-z0-9+/_-]{4,8192}+|[A-Za-z0-9+/_-]{2,3}+(?==))){0,200}"
    r"(?:={1,2}(?![A-Za-z0-9+/=_-])|(?![A-Za-z0-9+/=_-]))"
)
#: A decoded blob that is wholly `user:password` (HTTP Basic credentials, a docker config's
#: `auth`, an Elasticsearch API key) outside an `Authorization` header. Not a cursor or a time
#: (`offset:100`, `2026-11-23T10:00`), a URL (`https://…`), a name pair (`default:my-app`,
#: `system:serviceaccount:ns:x`).
_USER_PASSWORD = re.compile(
    r"[A-Za-z][A-Za-z0-9._@+-]{0,127}+:(?![0-9]{1,256}+\Z)"
    r"(?![a-z]{1,64}+(?:[._-][a-z0-9]{1,64}+){1,16}+\Z)[^\s:/][^\s:]{5,255}+"
)
#: SASL PLAIN's message (SMTP's and IMAP's `AUTH PLAIN`, XMPP, Kafka, LDAP): an identity to
#: act as (often none), the user and the password, a NUL byte before each of the last two.
#: Its base64 is a login wherever it is logged, with no `AUTH PLAIN` before it to say so.
_SASL_PLAIN = re.compile(rb"[^\x00]{0,255}+\x00[^\x00]{1,255}+\x00[^\x00]{1,255}+")
#: Every byte that is in no base64 alphabet (and padding) as a space.
_NOT_BASE64 = bytes(
    c if chr(c) in "+/_-" or (c < 128 and chr(c).isalnum()) else 32 for c in range(256)
)
#: A Discord bot token: the bot's id (17 to 20 digits) in base64url, a timestamp, an HMAC. The
#: id's digits encode as MT, Mj, Mz, ND … OT; the first part is decoded to check them
#: (`_discord_token`). Looked for in the base64 step (`_scrub_base64`): the id is a base64 run
#: that decodes to text, so only text with such a run is searched.
_DISCORD_TOKEN = re.compile(
    r"(?:M[Tjz]|N[DTjz]|O[DT])(?<![A-Za-z0-9_-](?<!\\[nrt]).{2})[A-Za-z0-9_-]{21,25}+"
    r"\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}+(?![A-Za-z0-9_-])"
)


def _discord_token(match: re.Match[str]) -> str:
    """The placeholder for a Discord bot token whose first part encodes 17 to 20 digits."""
    text = _base64_text(match[0].split(".", 1)[0])
    if text is not None and 17 <= len(text) <= 20 and text.isascii() and text.isdigit():
        return "[REDACTED:token]"
    return match[0]


def _utf16_text(data: bytes) -> str | None:
    """`data` read as UTF-16LE when every other byte is 0 (ASCII and Latin-1 text so encoded:
    PowerShell's `-EncodedCommand`; after its byte order mark too), else None. One pass over
    bytes already decoded."""
    data = data.removeprefix(b"\xff\xfe")
    if len(data) < 2 or data[1::2].strip(b"\x00"):
        return None
    return data[0::2].decode("latin-1")


#: How much text a gzip stream inside a base64 run is opened to at most (`_gunzipped`): a
#: Helm release's values fit; a stream that inflates past it is read that far.
_GUNZIP_MAX = 1 << 20


def _gunzipped(data: bytes) -> bytes:
    """`data` inflated when it is a gzip stream (`\\x1f\\x8b`: a Helm release kept in a
    ConfigMap, a compressed payload), to `_GUNZIP_MAX` bytes at most; else `data`."""
    if not data.startswith(b"\x1f\x8b"):
        return data
    try:
        return zlib.decompressobj(wbits=31).decompress(data, _GUNZIP_MAX)
    except zlib.error:
        return data


def keytab_replaced(match: re.Match[str]) -> str:
    """A base64 run that encodes a Kerberos keytab (`_keytab`) replaced; else unchanged."""
    data = _base64_bytes(match[0])
    return "[REDACTED:private-key]" if data is not None and _keytab(data) else match[0]


def _keytab(data: bytes) -> bool:
    """Whether `data` is a Kerberos keytab: version 0x0502, then its first entry's length
    (within the data), its principal's count of components (1 to 16) and its realm (printable
    ASCII). Its keys log in as the principal."""
    if len(data) < 12 or not data.startswith(b"\x05\x02"):
        return False
    size = int.from_bytes(data[2:6], "big", signed=True)
    components = int.from_bytes(data[6:8], "big")
    realm = data[10 : 10 + int.from_bytes(data[8:10], "big")]
    return (
        0 < size <= len(data) - 6
        and 1 <= components <= 16
        and bool(realm)
        and realm.isascii()
        and realm.decode().isprintable()
    )


def _base64_bytes(run: str) -> bytes | None:
    """The bytes a base64 run (standard or URL-safe, not both) encodes, or None."""
    body = run.rstrip("=")
    if len(body) % 4 == 1:
        return None
    if "-" in body or "_" in body:
        if "+" in body or "/" in body:
            return None
        body = body.replace("-", "+").replace("_", "/")
    # Every character is base64's (both callers read only those): no error to raise, which
    # would cost more than the decoding, on the many runs that are words or ids.
    return binascii.a2b_base64(body + "=" * (-len(body) % 4))


def _base64_text(run: str) -> str | None:
    """The text a base64 run encodes (`_bytes_text`), or None."""
    data = _base64_bytes(run)
    return None if data is None else _bytes_text(data)


def _bytes_text(data: bytes) -> str | None:
    """`data` as text without invisible characters, if it is printable UTF-8 or UTF-16LE
    (`_utf16_text`; line breaks and tabs allowed), a gzip stream opened first (`_gunzipped`);
    else None (a hash, an id, a word that merely looks like base64)."""
    data = _gunzipped(data)
    text = _utf16_text(data) if b"\x00" in data else None
    if text is None:
        text = data.decode(errors="replace")
    if "\ufffd" in text:
        return None
    if _hides(text):  # invisible characters glue nothing here either (`_visible`)
        text = _visible(text)
    if not text.isprintable() and not _layout_free(text).isprintable():
        return None
    return text


def _sasl_login(data: bytes) -> bool:
    """Whether `data` is SASL PLAIN's message (`_SASL_PLAIN`), its three parts printable
    UTF-8."""
    if data.count(0) != 2 or _SASL_PLAIN.fullmatch(data) is None:
        return False
    text = data.replace(b"\x00", b" ").decode(errors="replace")
    return "\ufffd" not in text and text.isprintable()


def text_or_login(run: str) -> bool:
    """Whether a base64 run decodes to text or to SASL PLAIN's login: a run the base64 pass
    reads (`_redacted_base64`). It is decoded once."""
    data = _base64_bytes(run)
    return data is not None and (_bytes_text(data) is not None or _sasl_login(data))


#: A line break inside a base64 run (`_BASE64_RUN`): raw or escaped.
_RUN_BREAK = re.compile(r"\r?\n|(?:\\r)?\\n")


def _redacted_base64(run: str, scrub: Callable[[str], str]) -> str:
    """A base64 run (`_BASE64_RUN`) replaced whole by a placeholder when its decoded text holds
    something `scrub` redacts, or is a `user:password` pair; else unchanged. A run over lines
    is decoded joined if every line but the last has one width, a multiple of 4 (wrapped);
    else each line is a run of its own."""
    if "\n" in run or "\\" in run:  # over lines, raw or escaped (`\\n`)
        lines = [line.strip() for line in _RUN_BREAK.split(run)]
        width = len(lines[0])
        if width % 4 or any(len(line) != width for line in lines[1:-1]) or len(lines[-1]) > width:
            return _BASE64_ONE_LINE.sub(lambda m: _redacted_base64(m[0], scrub), run)
        decoded = _base64_text("".join(lines))
        if decoded is None:
            # Not one blob after all (a line of bytes that are no text, `////`, after a line
            # that is): each line is judged alone, or the lines that are text would stay.
            return _BASE64_ONE_LINE.sub(lambda m: _redacted_base64(m[0], scrub), run)
    else:
        decoded = _base64_text(run)
    if decoded is None:
        data = _base64_bytes(run)
        return "[REDACTED:password]" if data is not None and _sasl_login(data) else run
    found = _PLACEHOLDER_FOUND.search(scrub(decoded))
    if found is not None:
        return found[0]
    return "[REDACTED:password]" if _USER_PASSWORD.fullmatch(decoded) else run
