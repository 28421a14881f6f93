"""The process's own credentials spelled out in a model's words: a compromised or hostile model
server can echo the key a request carried (OPENAI_API_KEY, the secret key Bedrock's requests
are signed with) with a separator between its characters ("s-k-p-r-o-j-…"), in capitals,
backwards, as hex or in fullwidth letters, and the redactor (`redact/`) replaces a held
credential by its exact value only.

Each spelling is found in one pass: the text folded to its ASCII letters and digits,
lower-cased, then looked up for each held credential's folded form, reversed and hex, with
Python's substring search; only a text that holds one is looked at again, to replace it where
it stands. Credentials shorter than `MIN_CHARS` folded are left to the exact match: spelled out,
a short value would match ordinary words.
"""

from __future__ import annotations

import re

from triage.redact.held import held
from triage.summarise.grounding import folded

#: What replaces a spelled credential: the redactor's own placeholder for a held one.
MARK = "[REDACTED:credential]"
#: The fewest letters and digits a held credential must have to be looked for spelled out.
MIN_CHARS = 16

#: What a spelling may put between a credential's characters: anything but ASCII letters and
#: digits (after the fullwidth forms are folded); non-ASCII is dropped by encoding.
_GAPS = bytes(byte for byte in range(128) if not chr(byte).isalnum())
_CHARACTER = re.compile(r"[A-Za-z0-9]")

#: The last held credentials' spellings, with the tuple they were made from (swapped whole).
_spellings: tuple[tuple[str, ...], tuple[bytes, ...]] = ((), ())


def unspelled(text: str) -> str:
    """`text` with every spelling of a credential the process holds (`redact.hold`) replaced
    by MARK, from its first character to its last."""
    spellings = _held_spellings()
    if not spellings or len(text) < MIN_CHARS:
        return text
    ascii_text = folded(text)  # one for one: a place in it is the same place in `text`
    squeezed = _squeezed(ascii_text)
    found = [spelling for spelling in spellings if spelling in squeezed]
    if not found:
        return text  # nearly every text: one substitution and a few substring searches
    return _replaced(text, ascii_text, squeezed, found)


def _squeezed(text: str) -> bytes:
    """`text`'s ASCII letters and digits, lower-cased (bytes: C does it all)."""
    return text.encode("ascii", "ignore").translate(None, _GAPS).lower()


def _held_spellings() -> tuple[bytes, ...]:
    """Each held credential's spellings, as `unspelled` looks for them: folded, reversed and
    hex. Made again only when the held credentials change."""
    global _spellings
    holding = held()
    made_from, spellings = _spellings
    if holding is made_from:
        return spellings
    forms: set[bytes] = set()
    for secret in holding:
        squeezed = _squeezed(secret)
        if len(squeezed) >= MIN_CHARS:
            forms.update((squeezed, squeezed[::-1], secret.encode().hex().encode()))
    spellings = tuple(sorted(forms, key=len, reverse=True))
    _spellings = (holding, spellings)
    return spellings


def _replaced(text: str, ascii_text: str, squeezed: bytes, found: list[bytes]) -> str:
    """`text` with each occurrence of `found` in `squeezed` (its letters and digits) replaced
    by MARK where it stands in `text`, separators between its characters included."""
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
