"""The process's own credentials spelled out: a compromised server, a model or a hostile alert
can write a credential the process holds with a separator between its characters
("s-k-p-r-o-j-…"), in capitals, backwards, as hex or in fullwidth letters, where the exact
value would not match. `_scrub` calls `unspelled` right after replacing the exact values, so
every redaction (a ticket, a prompt, a log line, an error's detail) catches them.

Each spelling is found in one pass: the text folded to its ASCII letters and digits,
lower-cased, then searched for each credential's folded form, reversed and hex (C's substring
search); only a text that holds one is read again, to replace it where it stands. Credentials
of fewer than `MIN_CHARS` letters and digits are left to the exact match: spelled out, a short
value would match ordinary words.
"""

from __future__ import annotations

import re
import threading

#: What replaces a spelled credential: the placeholder of an exact one.
MARK = "[REDACTED:credential]"
#: The fewest letters and digits a credential must have to be looked for spelled out.
MIN_CHARS = 16

#: What a spelling may put between a credential's characters: anything but ASCII letters and
#: digits (after fullwidth forms are folded); non-ASCII is dropped by encoding.
_GAPS = bytes(byte for byte in range(128) if not chr(byte).isalnum())
_CHARACTER = re.compile(r"[A-Za-z0-9]")
#: Fullwidth ASCII (U+FF01 to U+FF5E) as ASCII, one character for one.
_FULLWIDTH = {0xFF01 + i: 0x21 + i for i in range(94)}

#: The spellings of the last credentials asked about, with the tuple they were made from
#: (swapped whole: threads share it without a lock); and of a few others, for processes whose
#: redactors know different credentials (the gateway's tokens beside the held ones).
_last: tuple[tuple[str, ...], tuple[bytes, ...]] = ((), ())
_made: dict[tuple[str, ...], tuple[bytes, ...]] = {}
_MADE_MAX = 16
_made_lock = threading.Lock()


def unspelled(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every spelling of one of `secrets` (of `MIN_CHARS` letters and digits or
    more) replaced by MARK, from its first character to its last."""
    if len(text) < MIN_CHARS or not secrets:
        return text
    spellings = _spellings(secrets)
    if not spellings:
        return text
    ascii_text = text if text.isascii() else text.translate(_FULLWIDTH)  # one for one
    squeezed = _squeezed(ascii_text)
    found = [spelling for spelling in spellings if spelling in squeezed]
    if not found:
        return text  # nearly every text: a translation and a few substring searches
    return _replaced(text, ascii_text, squeezed, found)


def _squeezed(text: str) -> bytes:
    """`text`'s ASCII letters and digits, lower-cased (bytes: C does it all)."""
    return text.encode("ascii", "ignore").translate(None, _GAPS).lower()


def _spellings(secrets: tuple[str, ...]) -> tuple[bytes, ...]:
    """Each credential's spellings, as `unspelled` looks for them: folded, reversed and hex.
    Made again only when the credentials change."""
    global _last
    made_from, spellings = _last
    if secrets is made_from:
        return spellings
    found = _made.get(secrets)
    if found is None:
        found = _made_spellings(secrets)
        with _made_lock:
            if len(_made) >= _MADE_MAX:
                _made.clear()
            _made[secrets] = found
    _last = (secrets, found)
    return found


def _made_spellings(secrets: tuple[str, ...]) -> tuple[bytes, ...]:
    forms: set[bytes] = set()
    for secret in secrets:
        squeezed = _squeezed(secret.translate(_FULLWIDTH))
        if len(squeezed) >= MIN_CHARS:
            forms.update((squeezed, squeezed[::-1], secret.encode().hex().encode()))
    return tuple(sorted(forms, key=len, reverse=True))


def _replaced(text: str, ascii_text: str, squeezed: bytes, found: list[bytes]) -> str:
    """`text` with each occurrence of `found` in `squeezed` (its letters and digits) replaced
    by MARK where it stands in `text`, the separators between its characters included."""
    places = [match.start() for match in _CHARACTER.finditer(ascii_text)]
    spans: list[tuple[int, int]] = []
    for spelling in found:
        at = squeezed.find(spelling)
        while at >= 0:
            spans.append((places[at], places[at + len(spelling) - 1] + 1))
            at = squeezed.find(spelling, at + 1)
    out: list[str] = []
    end = 0
    for start, stop in sorted(spans):
        if start < end:  # overlaps the span just replaced: one mark for both
            end = max(end, stop)
            continue
        out += (text[end:start], MARK)
        end = stop
    return "".join([*out, text[end:]])
