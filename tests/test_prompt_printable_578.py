"""The prompt's printable check (`prompt._printable`) answers as `str.isprintable` does on
the text without its line breaks, for every ASCII character and texts of every kind, and a
view holding any of them is dumped with the same escapes."""

from __future__ import annotations

import json
import random

from triage.summarise.prompt import _dump, _printable

#: ASCII's every character, and characters outside it printable or not.
_CHARS = [chr(c) for c in range(128)] + [
    "\u00e9", "\u00a0", "\u0436", "\u4e2d", "\u2028", "\u2029", "\u200b", "\u202e", "\ufeff",
    "\u0085", "\ud800", "\U0001f600", "\U000e0041", "\u3000",
]  # fmt: skip


def _reference(text: str) -> bool:
    return text.replace("\n", "").isprintable()


def test_each_character_alone_and_beside_printable_text() -> None:
    """Each character, alone and inside an ASCII line with line breaks, is judged as
    `str.isprintable` judges it."""
    for ch in _CHARS:
        for text in (ch, f'{{\n "title": "a{ch}b"\n}}', ch * 3 + "\n"):
            assert _printable(text) == _reference(text), repr(text)


def test_random_texts_are_judged_as_isprintable_judges_them() -> None:
    """Thousands of texts of ASCII and other characters, mostly printable ones."""
    rng = random.Random(578)
    printable = [c for c in _CHARS if c.isprintable()] * 8 + ["\n"] * 4
    for _ in range(5000):
        pool = printable if rng.random() < 0.5 else _CHARS
        text = "".join(rng.choice(pool) for _ in range(rng.randrange(0, 40)))
        assert _printable(text) == _reference(text), repr(text)


def test_a_view_with_a_delete_or_a_control_is_escaped_as_before() -> None:
    """A DEL (which JSON leaves as it is) and a separator are escaped in the dumped view."""
    view = {"title": "disk\x7ffull", "description": "a\u2028b", "labels": {"k": "v\x7f"}}
    expected = (
        json.dumps(view, ensure_ascii=False, indent=1)
        .replace("\x7f", "\\u007f")
        .replace("\u2028", "\\u2028")
    )
    assert _dump(view) == expected
