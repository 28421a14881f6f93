"""Where text may be cut without splitting what a reader sees as one character.

A user-perceived character (a grapheme cluster, Unicode UAX #29) can be many code points: a
letter and its accents, a Devanagari consonant and its vowel sign, a flag (two regional
indicators), a family emoji (people joined by U+200D), a skin-tone modifier, Hangul jamo.
`boundary_before` walks back from a cut position over the pairs the standard never breaks.

The rules are applied pairwise around the cut, so the cost is a few code points, not the whole
text (a full segmenter over a 4,000-character description would cost a millisecond per cut). The
tests check every cut against the `regex` package's full segmenter (`\\X`).
"""

from __future__ import annotations

import unicodedata

ZWJ = "\u200d"

#: Characters that glue to whatever follows them (Grapheme_Cluster_Break=Prepend).
_PREPEND_RANGES = (
    (0x0600, 0x0605), (0x06DD, 0x06DD), (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2),
    (0x0D4E, 0x0D4E), (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x111C2, 0x111C3),
    (0x1193F, 0x1193F), (0x11941, 0x11941), (0x11A3A, 0x11A3A), (0x11A84, 0x11A89),
    (0x11D46, 0x11D46), (0x11F02, 0x11F02),
)  # fmt: skip
#: Extend characters outside the mark categories: ZWNJ, half-width kana voicing marks, emoji
#: skin-tone modifiers and tag characters (subdivision flags).
_EXTEND_RANGES = ((0x200C, 0x200C), (0xFF9E, 0xFF9F), (0x1F3FB, 0x1F3FF), (0xE0020, 0xE007F))
#: Thai and Lao SARA AM: spacing marks that are letters by category.
_SPACING_LETTERS = frozenset("\u0e33\u0eb3")


def _within(c: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    cp = ord(c)
    return any(low <= cp <= high for low, high in ranges)


def _is_extend(c: str) -> bool:
    """Attaches to the character before it (Extend, SpacingMark or ZWJ)."""
    if unicodedata.category(c) in ("Mn", "Mc", "Me") or c == ZWJ or c in _SPACING_LETTERS:
        return True
    return _within(c, _EXTEND_RANGES)


def _is_regional_indicator(c: str) -> bool:
    return 0x1F1E6 <= ord(c) <= 0x1F1FF


def _hangul(c: str) -> str | None:
    """The Hangul syllable type of `c` (L, V, T, LV, LVT), or None."""
    cp = ord(c)
    if 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97C:
        return "L"
    if 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        return "V"
    if 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        return "T"
    if 0xAC00 <= cp <= 0xD7A3:
        return "LV" if (cp - 0xAC00) % 28 == 0 else "LVT"
    return None


def _hangul_joins(before: str, after: str) -> bool:
    a, b = _hangul(before), _hangul(after)
    if a is None or b is None:
        return False
    if a == "L":
        return b in ("L", "V", "LV", "LVT")
    if a in ("LV", "V"):
        return b in ("V", "T")
    return b == "T"  # LVT or T


def _after_virama(text: str, i: int) -> bool:
    """True if text[i] follows a virama, with only other marks between (at most a few)."""
    for j in range(i - 1, max(i - 9, -1), -1):
        if unicodedata.combining(text[j]) == 9:
            return True
        if not _is_extend(text[j]):
            return False
    return False


def _joined(text: str, i: int) -> bool:
    """True if the standard never breaks between text[i - 1] and text[i]."""
    before, after = text[i - 1], text[i]
    if before == "\r" and after == "\n":
        return True
    if _is_extend(after) or _within(before, _PREPEND_RANGES):
        return True
    if before == ZWJ:
        return True  # emoji ZWJ sequences (and ZWJ inside Indic conjuncts)
    if unicodedata.category(after) == "Lo" and _after_virama(text, i):
        return True  # a virama (then maybe other marks) links two consonants into one conjunct
    if _is_regional_indicator(before) and _is_regional_indicator(after):
        # Flags pair up from the start of a run: join if an odd number of indicators precede.
        run = 0
        while i - 1 - run >= 0 and _is_regional_indicator(text[i - 1 - run]):
            run += 1
        return run % 2 == 1
    return _hangul_joins(before, after)


def boundary_before(text: str, end: int, max_backoff: int) -> int:
    """The last cluster boundary at or before `end` (0 < end < len(text)), looking back at most
    `max_backoff` code points (the start of the text is one); `end` itself if there is none that
    close (hundreds of marks on one letter: such a "character" cannot be kept whole anyway)."""
    stop = max(end - max_backoff, 0)
    for i in range(end, stop, -1):
        if not _joined(text, i):
            return i
    return 0 if stop == 0 else end
