"""`display.visible`, the first step of every place that shows hostile text: what it removes,
what it replaces and what scripts and emoji need that it keeps."""

from __future__ import annotations

import random

import pytest

from triage.display import _visible_slowly, visible, visible_json, whole_unicode

ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
FAMILY = "\N{MAN}\u200d\N{WOMAN}\u200d\N{GIRL}"


@pytest.mark.parametrize(
    ("hostile", "shown"),
    [
        ("a\u202eb\u202dc\u2066d\u2069e\u202a", "abcde"),  # overrides, isolates, embeddings
        ("ad\u200bmin\u2060\ufeff\u180e", "admin"),  # zero-width space, joiner, BOM, MVS
        ("ok\U000e0049\U000e0047\U000e004e", "ok"),  # tag letters spelling hidden words
        ("\x1b]8;;https://x\x1b\\y\x1b]8;;\x1b\\", " ]8;;https://x \\y ]8;; \\"),  # OSC 8
        ("a\x00b\x08c\x7fd\x9be", "a b c d e"),  # NUL, backspace, DEL, C1 CSI: spaces
        ("lone \ud800 \udfff", "lone \ufffd \ufffd"),
    ],
)
def test_hostile_characters_are_removed_or_replaced(hostile: str, shown: str) -> None:
    """Reordering and invisible characters go, control characters become spaces and a lone
    surrogate becomes U+FFFD."""
    assert visible(hostile) == shown


def test_line_breaks_of_every_kind_become_one_kind() -> None:
    """CR LF, CR, NEL and the Unicode line and paragraph separators are "\\n" (tabs stay), or
    spaces with `one_line`, so no carriage return can put one line over another."""
    text = "a\r\nb\rc\x85d\u2028e\u2029f\tg"
    assert visible(text) == "a\nb\nc\nd\ne\nf\tg"
    assert visible(text, one_line=True) == "a b c d e f g"


def test_what_scripts_and_emoji_need_is_kept() -> None:
    """Joined emoji, a flag's tag characters, Persian's non-joiner, direction marks in mixed
    prose, a soft hyphen and a no-break space survive unchanged."""
    text = f"{FAMILY} {ENGLAND} \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 a\u200fb hy\u00adphen\u00a0x"
    assert visible(text) == text


def test_tag_characters_outside_a_flag_are_removed() -> None:
    """Tag characters after a black flag make a flag and stay; after anything else they hide
    text and go, even right after a flag sequence has ended."""
    assert visible(f"{ENGLAND}\u0020\U000e0041") == f"{ENGLAND} "


def test_json_values_are_cleaned_throughout() -> None:
    """`visible_json` cleans every text of a JSON-like value, keys as one line; `whole_unicode`
    replaces only lone surrogates and leaves every other character as stored."""
    value = {"t\u202ei\nt": ["a\x00", {"k": "\ud800\u200b"}], "n": 3, "b": None}
    assert visible_json(value) == {"ti t": ["a ", {"k": "\ufffd"}], "n": 3, "b": None}
    assert whole_unicode(value) == {
        "t\u202ei\nt": ["a\x00", {"k": "\ufffd\u200b"}],
        "n": 3,
        "b": None,
    }


def test_a_pile_of_combining_marks_is_cut() -> None:
    """More than eight combining marks on one letter (Zalgo text, which draws over the lines
    above and below it on a page, in Slack or in a terminal) keep only their first eight;
    what real scripts stack (Vietnamese, a keycap, Hebrew points, Tibetan) is kept whole."""
    zalgo = "a" + "\u0300\u0301\u0302\u0303" * 25 + "b"
    assert visible(zalgo) == "a" + "\u0300\u0301\u0302\u0303" * 2 + "b"
    real = "Vi\u1ec7t 1\ufe0f\u20e3 \u05e9\u05c1\u05b8 \u0f40\u0fb1\u0f74\u0f7c"
    assert visible(real) == real


def test_a_control_character_is_a_space_so_no_secret_is_glued_together() -> None:
    """A control character between two halves of a credential becomes a space, not nothing:
    the redactor saw two words there (it does not see through controls), and gluing them after
    it ran would publish the credential whole."""
    assert visible("key AKIA\x00IOSFODNN7EXAMPLE") == "key AKIA IOSFODNN7EXAMPLE"
    assert visible("a\x1b[2Jb\x08c") == "a [2Jb c"


def test_the_quick_paths_agree_with_the_character_at_a_time_reading() -> None:
    """`visible` answers plain text (ASCII with its line breaks and tabs, printable letters,
    "…" and emoji) without reading it a character at a time: for 40,000 seeded strings of the
    characters it treats differently, what it answers is what that reading gives."""
    alphabet = [
        "a", " ", "\n", "\t", "\r", "\x00", "\x1b", "\x7f", "\x85", "\u2028", "\u200b", "\u202e",
        "\ud800", "\u0301", "\u0301" * 4, "é", "…", "🔥", "\U0001f3f4", "\U000e0067",
        "\U000e007f", "\xa0", "\u3000", "\U000e0100", "\u0488", "\uffff", "磁", "\u200d",
    ]  # fmt: skip
    rng = random.Random(20261205)
    for _ in range(40_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16)))
        for one_line in (False, True):
            assert visible(text, one_line=one_line) == _visible_slowly(text, one_line), repr(text)
