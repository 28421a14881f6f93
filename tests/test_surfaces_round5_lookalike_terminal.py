"""What the operator's terminal is shown (`view.terminal_line`, `view.terminal_text`,
`view.json_line`): a printable character that draws nothing (the blank Braille pattern, a
Hangul filler, a variation selector after a letter) is written as `\\uXXXX` as an unprintable
one is, so `db` and `down` around the blank Braille pattern do not pass for `db down`; in
stored alert text (`terminal_text`) a backslash that would start an escape is written `\\\\`,
so a title spelling `\\u202e` cannot read as an escape triage wrote; and a JSON line stays
JSON that reads back as the value."""

from __future__ import annotations

import json

import pytest

from triage.view import draws_nothing, json_line, terminal_line, terminal_text

#: Printable characters (so `str.isprintable` lets them through) that draw nothing.
PRINTABLE_BLANKS = (
    "\u2800",
    "\u3164",
    "\u115f",
    "\u1160",
    "\uffa0",
    "\u034f",
    "\u17b4",
    "\u17b5",
    "\u180b",
    "\ufe0f",
    "\U000e0101",
)


@pytest.mark.parametrize(
    "blank", PRINTABLE_BLANKS, ids=[f"U+{ord(c):04X}" for c in PRINTABLE_BLANKS]
)
def test_a_printable_character_that_draws_nothing_is_written_as_its_code(blank: str) -> None:
    """A character `isprintable` lets through but that draws nothing is escaped in a terminal
    line and in a JSON line, each as it writes every hidden character."""
    assert blank.isprintable() and draws_nothing(blank)
    line = terminal_line(f"db{blank}down")
    assert blank not in line and line.startswith("db\\u") and line.endswith("down"), line
    assert blank not in json_line({"title": f"db{blank}down"})


def test_a_space_and_letters_of_any_script_draw() -> None:
    """Spaces, letters of other scripts, accents and emoji are shown as they are."""
    for text in ("db down", "платежи", "café", "東京", "e\u0301", "\N{FIRE}"):
        assert terminal_line(text) == text
        assert not any(draws_nothing(ch) for ch in text.replace(" ", ""))


def test_a_variation_selector_is_shown_only_where_it_chooses_a_glyph() -> None:
    """A variation selector right after a symbol (the emoji form of ⚠), a keycap's digit or
    an ideograph is kept; after a letter, at the start, or after another selector it draws
    nothing and is escaped."""
    assert terminal_line("\N{WARNING SIGN}\ufe0f disk full") == "\N{WARNING SIGN}\ufe0f disk full"
    assert terminal_line("pay\ufe0f") == "pay\\ufe0f"
    assert terminal_line("\ufe0fpay") == "\\ufe0fpay"
    assert terminal_line("\N{WARNING SIGN}\ufe0f\ufe0f") == "\N{WARNING SIGN}\ufe0f\\ufe0f"
    assert terminal_line("1\ufe0f\u20e3") == "1\ufe0f\u20e3"  # a keycap
    assert terminal_line("1\ufe0f") == "1\\ufe0f"
    assert terminal_line("\u845b\U000e0100") == "\u845b\U000e0100"  # a kanji's variant


def test_a_backslash_is_written_so_no_text_reads_as_triages_escape() -> None:
    """Stored alert text (`terminal_text`) spelling `\\u202e` and text holding the character
    U+202E are shown apart: a backslash that would start an escape is doubled, the character
    is escaped once; a backslash before the character's own escape is doubled too, and one
    that starts nothing (Markdown's `\\_`, a path) stays one. A message (`terminal_line`)
    quoting a value as Python's repr spells it is escaped already, and left as it is."""
    spelled, real = terminal_text("x\\u202ey"), terminal_text("x\u202ey")
    assert spelled == "x\\\\u202ey" and real == "x\\u202ey"
    assert terminal_text("x\\\u202e") == "x\\\\\\u202e"  # a backslash, then U+202E
    assert terminal_text("x\\\\u") == "x\\\\\\\\u"  # two backslashes, then u
    assert terminal_text("pg\\_dump C:\\temp") == "pg\\_dump C:\\temp"
    assert terminal_line(repr("cron\udcff")) == "'cron\\udcff'"


@pytest.mark.parametrize(
    "value",
    [
        {"title": "db\u2800down \\u202e \u202e pay\ufe0f \N{WARNING SIGN}\ufe0f"},
        ["\\", "\\\\u2800", "\u3164"],
    ],
)
def test_a_json_line_reads_back_as_the_value(value: object) -> None:
    """A JSON line escapes what draws nothing with JSON's own escapes and leaves JSON's
    escaping of a backslash as it is: `json.loads` gives the value back, exactly."""
    line = json_line(value)
    assert json.loads(line) == value
    assert "\u2800" not in line and "\u3164" not in line
