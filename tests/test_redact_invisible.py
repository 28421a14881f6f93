"""Invisible letters (Hangul fillers, the combining grapheme joiner, variation selectors and the
other default-ignorable code points) cannot glue a credential past the redactor: they are
dropped before the rules run, raw or escaped in JSON."""

from __future__ import annotations

import base64
import json

import pytest

from triage.redact import Redactor

KEY = "AKIA" + "IOSFODNN7EXAMPLE"

HIDDEN = [
    pytest.param("\u3164", id="hangul-filler"),
    pytest.param("\u115f", id="hangul-choseong-filler"),
    pytest.param("\u1160", id="hangul-jungseong-filler"),
    pytest.param("\uffa0", id="halfwidth-hangul-filler"),
    pytest.param("\u034f", id="combining-grapheme-joiner"),
    pytest.param("\ufe00", id="variation-selector-1"),
    pytest.param("\ufe0f", id="variation-selector-16"),
    pytest.param("\U000e0100", id="variation-selector-17"),
    pytest.param("\U000e01ef", id="variation-selector-256"),
    pytest.param("\u2060", id="word-joiner"),
    pytest.param("\u2061", id="function-application"),
    pytest.param("\u2064", id="invisible-plus"),
    pytest.param("\u180e", id="mongolian-vowel-separator"),
    pytest.param("\u180b", id="mongolian-variation-selector"),
    pytest.param("\u17b4", id="khmer-inherent-aq"),
    pytest.param("\U000e0041", id="tag-letter"),
]


def _split(hidden: str) -> str:
    return KEY[:4] + hidden + KEY[4:]


@pytest.mark.parametrize("hidden", HIDDEN)
def test_a_key_split_by_an_invisible_letter_is_redacted_in_text(hidden: str) -> None:
    """`Redactor.text` finds a key split by an invisible character, and lets none out."""
    out = Redactor().text(f"key {_split(hidden)} and pass{hidden}word=hunter2xyz")
    assert out == "key [REDACTED:aws-key] and password=[REDACTED:password]"


@pytest.mark.parametrize("hidden", HIDDEN)
def test_a_key_split_by_an_invisible_letter_is_redacted_in_a_value(hidden: str) -> None:
    """`Redactor.value` finds it in a payload's values and keys alike."""
    payload = {"alarm": {"detail": f"key {_split(hidden)}"}, _split(hidden): 1}
    assert Redactor().value(payload) == {
        "alarm": {"detail": "key [REDACTED:aws-key]"},
        "[REDACTED:aws-key]": 1,
    }


@pytest.mark.parametrize("hidden", HIDDEN)
def test_a_key_split_by_an_escaped_invisible_letter_is_redacted(hidden: str) -> None:
    """JSON text escaping the invisible character (`\\u3164`, a surrogate pair for U+E0100)
    hides nothing either."""
    text = json.dumps({"detail": f"key {_split(hidden)}"})
    assert "\\u" in text
    assert Redactor().text(text) == '{"detail": "key [REDACTED:aws-key]"}'


def test_visible_text_beyond_ascii_stays() -> None:
    """Korean, Mongolian and an emoji with its variation selector's neighbours stay as they
    are when they hide no secret (only the invisible code points themselves go)."""
    text = "경보: 디스크 가득 참 ᠮᠣᠩᠭᠣᠯ 🔥 émoji ünïcode"
    assert Redactor().text(text) == text
    assert Redactor().text("ok\u3164done") == "okdone"


@pytest.mark.parametrize("hidden", HIDDEN)
def test_a_key_split_by_an_invisible_letter_inside_base64_is_redacted(hidden: str) -> None:
    """Base64 whose decoded text holds a key split by an invisible character is read as text,
    without it, and replaced whole."""
    blob = base64.b64encode(f"aws key {_split(hidden)} in use".encode()).decode()
    assert Redactor().text(f"blob {blob} end") == "blob [REDACTED:aws-key] end"
