"""GitHub text (`sinks/markdown.py`) removes the same hostile characters as every other place
that shows alert text (`display.visible`), and keeps what scripts and emoji need."""

from __future__ import annotations

from triage.sinks import markdown

CODER = "\N{WOMAN}\u200d\N{PERSONAL COMPUTER}"
ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
PERSIAN = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"


def test_joined_emoji_flags_and_non_joiners_survive() -> None:
    """A zero-width joiner in an emoji, a flag's tag characters and Persian's non-joiner are
    kept in inline text, paragraphs and titles (they were dropped, splitting 👩‍💻 in two)."""
    text = f"{CODER} {ENGLAND} {PERSIAN}"
    assert markdown.inline(text) == text
    assert markdown.paragraphs(text) == text
    assert markdown.title(text) == text


def test_hidden_tag_letters_and_line_separators() -> None:
    """Tag letters outside a flag (hidden words) are still removed; NEL and the Unicode line
    separator break a line as "\\n" does, instead of gluing two words together."""
    assert markdown.inline("ok\U000e0049\U000e0047 now") == "ok now"
    assert markdown.paragraphs("one\x85two\u2028three") == "one  \ntwo  \nthree"
