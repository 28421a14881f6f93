"""The process's own credentials spelled out: a compromised server, a model or a hostile alert
can write a credential the process holds with a separator between its characters
("s-k-p-r-o-j-…"), in capitals, backwards, as hex or in fullwidth letters, where the exact
value would not match. `_scrub` calls `unspelled` right after replacing the exact values, so
every redaction (a ticket, a prompt, a log line, an error's detail) catches them.

The text is folded to its ASCII letters and digits, lower-cased (`_squeezed`), where each
credential's spellings are its folded form, reversed, and its hex. Most texts hold none, and
are told so in C whatever the number of credentials: a spelling of 16 bytes or more covers a
whole 8-byte piece of the folded text at a multiple of 8, which is then one of the spelling's
first eight 8-byte pieces (`_Spellings.pieces`). Only a text holding such a piece is searched
for the spellings, and read again to replace each where it stands. Credentials of fewer than
`MIN_CHARS` letters and digits are left to the exact match: spelled out, a short value would
match ordinary words.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

from triage.redact.per_credentials import PerCredentials

#: What replaces a spelled credential: the placeholder of an exact one.
MARK = "[REDACTED:credential]"
#: The fewest letters and digits a credential must have to be looked for spelled out.
MIN_CHARS = 16

#: What a spelling may put between a credential's characters: anything but ASCII letters and
#: digits (after fullwidth forms are folded); non-ASCII is dropped by encoding.
_GAPS = bytes(byte for byte in range(128) if not chr(byte).isalnum())
#: Capitals to small letters, in the same pass that drops the gaps.
_LOWER = bytes.maketrans(bytes(range(65, 91)), bytes(range(97, 123)))
_CHARACTER = re.compile(r"[A-Za-z0-9]")
#: Fullwidth ASCII (U+FF01 to U+FF5E) as ASCII, one character for one.
_FULLWIDTH = {0xFF01 + i: 0x21 + i for i in range(94)}
_FULLWIDTH_CHARACTER = re.compile("[\uff01-\uff5e]")
#: The bytes of a piece (`_Spellings.pieces`): MIN_CHARS = 2 * _PIECE, so a spelling's
#: first _PIECE pieces fit in it.
_PIECE = 8


@dataclass(frozen=True, slots=True)
class _Spellings:
    #: Each credential folded, reversed and as hex; longest first.
    forms: tuple[bytes, ...]
    #: Each form's 8-byte pieces at offsets 0 to 7: a text holding a form holds one of them at
    #: a multiple of 8. As bytes, for a short text's few pieces (sliced) …
    pieces: frozenset[bytes]
    #: … and as the numbers `memoryview.cast("Q")` reads them, for a long text's many.
    numbers: frozenset[int]

    def any_in(self, squeezed: bytes) -> bool:
        """Whether `squeezed` holds one of the pieces at a multiple of 8 (C does the work);
        never when it is shorter than any form."""
        if len(squeezed) < MIN_CHARS:
            return False
        if len(squeezed) < 4 * _PIECE:
            return (
                squeezed[:8] in self.pieces
                or squeezed[8:16] in self.pieces
                or squeezed[16:24] in self.pieces
            )
        whole = len(squeezed) // _PIECE * _PIECE
        return not self.numbers.isdisjoint(memoryview(squeezed)[:whole].cast("Q"))


_MADE_MAX = 16


def unspelled(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every spelling of one of `secrets` (of `MIN_CHARS` letters and digits or
    more) replaced by MARK, from its first character to its last."""
    if len(text) < MIN_CHARS or not secrets:
        return text
    last = _spellings.last  # read here, not called: this runs for every text the redactor reads
    spellings = last[1] if last is not None and last[0] is secrets else _spellings(secrets)
    # Inline, not `_squeezed`: this runs for every text the redactor reads.
    if text.isascii():
        ascii_text = text
        squeezed = text.encode().translate(_LOWER, _GAPS)
    else:
        ascii_text = text
        if _FULLWIDTH_CHARACTER.search(text) is not None:
            ascii_text = text.translate(_FULLWIDTH)  # one for one: places stay
        squeezed = ascii_text.encode("ascii", "ignore").translate(_LOWER, _GAPS)
    if not spellings.any_in(squeezed):
        return text  # nearly every text: one translation and one pass in C
    found = [form for form in spellings.forms if form in squeezed]
    if not found:
        return text
    return _replaced(text, ascii_text, squeezed, found)


def _squeezed(text: str) -> bytes:
    """`text`'s ASCII letters and digits, lower-cased (bytes: C does it all)."""
    return text.encode("ascii", "ignore").translate(_LOWER, _GAPS)


def _made_spellings(secrets: tuple[str, ...]) -> _Spellings:
    forms: set[bytes] = set()
    for secret in secrets:
        squeezed = _squeezed(secret.translate(_FULLWIDTH))
        if len(squeezed) >= MIN_CHARS:
            forms.update((squeezed, squeezed[::-1], secret.encode().hex().encode()))
    pieces = frozenset(form[at : at + _PIECE] for form in forms for at in range(_PIECE))
    numbers = frozenset(int.from_bytes(piece, sys.byteorder) for piece in pieces)
    return _Spellings(tuple(sorted(forms, key=len, reverse=True)), pieces, numbers)


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


#: The spellings of the credentials asked about, made again only when they change.
_spellings = PerCredentials(_made_spellings, _MADE_MAX)
