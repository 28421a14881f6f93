"""Text for a terminal: every character a terminal could act on, that reorders what it shows,
or that draws nothing is written as its `\\uXXXX` escape. Apart from `triage.view` (which
re-exports these) so that `triage health`, which runs every 30 s as a container's HEALTHCHECK
on a fraction of a CPU and prints one such line, does not import the redactor with it.
"""

from __future__ import annotations

import re
import unicodedata

from triage.display import MARKS_MAX, VARIATION_SELECTORS
from triage.unseen import unseen_at


def terminal_line(text: str) -> str:
    """Plain text for a terminal (the CLI's messages on stderr, which may quote what a user or
    an alert wrote, often as Python's repr spells it): every character `json_line` would
    escape is written as `\\uXXXX` here too, and so is a variation selector anywhere but
    after a symbol, a keycap's digit or an ideograph (there it chooses a glyph; after a
    letter, or another selector, it draws nothing)."""
    return _for_terminal(text, backslashes=False)


def terminal_text(text: str) -> str:
    """Stored alert text for a terminal (`incidents list|show --output text`): as
    `terminal_line`, and a backslash that would start something read as an escape (before
    `u` or another backslash, or before a character written as its code) is written `\\\\`,
    so a title spelling `\\u202e` cannot read as an escape triage wrote; any other stays one
    (`pg\\_dump`, `C:\\temp`)."""
    return _for_terminal(text, backslashes=True)


def terminal_cut(text: str, chars: int) -> str:
    """`text` as `terminal_text` shows it, in at most `chars` characters: a longer one is cut
    with "…" between the pieces it is shown as, never inside one. A cut inside `\\u001b`
    would leave `\\u00`, which reads as another character, and a cut between a doubled
    backslash's two would undo the doubling."""
    pieces = _terminal_pieces(text, backslashes=True)
    if sum(map(len, pieces)) <= chars:
        return "".join(pieces)
    kept: list[str] = []
    room = chars - 1  # what the pieces may take beside the "…" of a cut
    for piece in pieces:
        if len(piece) > room:
            break
        kept.append(piece)
        room -= len(piece)
    return "".join(kept) + "…"


def _for_terminal(text: str, *, backslashes: bool) -> str:
    if text.isascii() and text.isprintable() and not (backslashes and "\\" in text):
        return text
    return "".join(_terminal_pieces(text, backslashes=backslashes))


def _terminal_pieces(text: str, *, backslashes: bool) -> list[str]:
    """`text` as `_for_terminal` shows it, one piece a character: the character itself or the
    escape written for it (a doubled backslash, `\\u001b`, a surrogate pair's two escapes),
    so a cut between pieces never splits an escape."""
    out: list[str] = []
    marks = 0
    hidden = unseen_at(text)
    for n, ch in enumerate(text):
        marks = marks + 1 if unicodedata.category(ch) in ("Mn", "Me") else 0
        shown = ch.isprintable() and marks <= MARKS_MAX and _draws(text, n, hidden)
        out.append(ch if shown else _escaped(ch))
    if backslashes:
        for n in range(len(out) - 1):  # no backslash but the last is read as anything else
            if out[n] == "\\" and out[n + 1][:1] in ("\\", "u", "U"):
                out[n] = "\\\\"
    return out


def _draws(text: str, n: int, hidden: frozenset[int]) -> bool:
    """Whether `text[n]`, printable, draws something where it stands: a variation selector
    does only right after a symbol, a keycap's digit (`1\\ufe0f\\u20e3`) or an ideograph (a
    kanji's variant), where it chooses a glyph; anything else unless it draws nothing there
    (`hidden`, from `unseen.unseen_at`: a blank Braille cell of a drawing draws)."""
    ch = text[n]
    if _SELECTOR.match(ch):
        before, after = text[n - 1 : n] if n else "", text[n + 1 : n + 2]
        if before in _KEYCAP_BASES:
            return after == "\u20e3"
        return before != "" and (
            unicodedata.category(before) == "So"
            or unicodedata.name(before, "").startswith(_IDEOGRAPHS)
        )
    return n not in hidden


#: The names of the characters an ideographic variation sequence chooses a glyph of.
_IDEOGRAPHS = ("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH")
#: What a keycap emoji is drawn on: a digit, `#` or `*`, then U+FE0F and U+20E3.
_KEYCAP_BASES = frozenset("0123456789#*")
_SELECTOR = re.compile(f"[{VARIATION_SELECTORS}]")


def _escaped(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON spells a character outside the BMP as a surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
