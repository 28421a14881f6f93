"""Characters that draw nothing though they are no space: the one list every place that shows
or reads alert text asks, so `db⠀down` (a blank Braille cell between the words) passes for
`db down` nowhere.

Two kinds, both printable or not:

- Unicode's default-ignorable code points (`DEFAULT_IGNORABLE`: zero-width spaces and joiners,
  the soft hyphen, bidi marks and controls, Hangul fillers, variation selectors, the tag
  characters …), which a renderer draws as nothing;
- symbols whose glyph is an empty cell (`BLANK_GLYPHS`: the blank Braille pattern U+2800, the
  musical null notehead U+1D159), used for names that look empty or like another.

A blank Braille cell inside a Braille drawing (a sparkline or chart of Braille dots, touching a
pattern with dots, U+2801 to U+28FF) is part of the drawing, not a disguise: it stays.

What each surface does with them: the redactor
drops them first (`redact.disguises`), so no text it lets out has one and none glues a
secret's halves after redaction; `display.visible` (Slack, the status page, the ticket
backend, GitHub's body) drops them too, bar the joiners, direction marks and one variation
selector it keeps for scripts and emoji; GitHub labels drop them; the terminal writes each as
`\\uXXXX` (`view.terminal_line`); a title, team or name made only of them is none
(`normalize.common.showing`).
"""

from __future__ import annotations

import re
import unicodedata

#: Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt), as a regex class body.
DEFAULT_IGNORABLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
#: The blank Braille pattern: a letter of Braille with no dot, drawn as an empty cell.
BRAILLE_BLANK = "\u2800"
#: Printable symbols whose glyph is empty: the blank Braille pattern, the musical null notehead.
BLANK_GLYPHS = BRAILLE_BLANK + "\U0001d159"
#: Everything that draws nothing (controls and spaces aside), as a regex class body.
UNSEEN = DEFAULT_IGNORABLE + BLANK_GLYPHS
#: The C0 and C1 control characters and DEL, as a regex class body.
CONTROLS = "\x00-\x1f\x7f-\x9f"

_ONE_UNSEEN = re.compile(f"[{UNSEEN}]")
#: What draws nothing in a text: a default-ignorable character, a null notehead, or a whole run of blank
#: Braille cells that touches no Braille pattern with dots (possessive: a run is taken whole,
#: never cut short to make the look-ahead pass).
_UNSEEN_IN_TEXT = re.compile(
    f"[{DEFAULT_IGNORABLE}\U0001d159]|(?<![\u2800-\u28ff])\u2800++(?![\u2801-\u28ff])"
)


def _code_ranges(body: str) -> tuple[tuple[int, int], ...]:
    """The code point ranges, both ends in, of a regex class body of characters and `a-b`s."""
    ranges: list[tuple[int, int]] = []
    at = 0
    while at < len(body):
        if body[at + 1 : at + 2] == "-":
            ranges.append((ord(body[at]), ord(body[at + 2])))
            at += 3
        else:
            ranges.append((ord(body[at]), ord(body[at])))
            at += 1
    return tuple(ranges)


#: `UNSEEN` as code point ranges: for a reader of escapes (`\\u3164` in JSON text).
UNSEEN_RANGES = _code_ranges(UNSEEN)


def draws_nothing(ch: str) -> bool:
    """Whether the character `ch`, seen alone, draws nothing though it is no space: a control,
    a default-ignorable character (a zero-width space, a Hangul filler, a variation selector),
    a blank glyph (U+2800, U+1D159). Of a text, ask `has_unseen` or `unseen_at`, which know a
    Braille drawing."""
    if ch.isascii():
        return not ch.isprintable() and not ch.isspace()
    if ch.isspace():
        return False
    return unicodedata.category(ch) == "Cc" or _ONE_UNSEEN.match(ch) is not None


def has_unseen(text: str) -> bool:
    """Whether `text` holds a character that draws nothing (controls aside), a blank Braille
    cell of a drawing not counted. ASCII holds none: checked in C first."""
    return not text.isascii() and _UNSEEN_IN_TEXT.search(text) is not None


def without_unseen(text: str) -> str:
    """`text` without the characters that draw nothing; controls and spaces stay. Idempotent:
    what it leaves holds none (a blank Braille cell it keeps touches a pattern with dots,
    which stays)."""
    return _UNSEEN_IN_TEXT.sub("", text) if has_unseen(text) else text


def unseen_at(text: str) -> frozenset[int]:
    """The positions in `text` of the characters that draw nothing (controls aside): for a
    place that writes each as something else (the terminal, as its code)."""
    if not has_unseen(text):
        return frozenset()
    return frozenset(n for m in _UNSEEN_IN_TEXT.finditer(text) for n in range(*m.span()))
