"""The summariser's own work per new incident (issue 18): the checks of a model's answer skip
what cannot change their verdict, and read exactly as their straightforward forms do. The
language check reads the alert's words only for a description naming none of its facts; a
word of plain ASCII letters is read as Latin without a look at each letter."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from triage.summarise import scripts

#: Letters of several scripts, marks and CJK punctuation: what `_words` splits and reads.
_ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCXYZ"
    "éüßçñ"
    "абвгдЖЩ"
    "αβγΔΩ"
    "误报解決クローズ오경보"
    "\uff41\uff42\uff43"  # fullwidth a, b, c
    "µ"
    " \t\n.,;:!?()\"'`*_-/@0123456789\u3000\u3001\uff01"
)


def _per_letter_words(text: str) -> Iterator[tuple[str | None, str]]:
    """`scripts._words` as first written: every letter's script looked up, ASCII or not."""
    for token in scripts._TOKEN_END.split(text):
        letters = token.strip(scripts._AROUND_WORD).lower()
        if not letters.isalpha():
            continue
        start = 0
        current = scripts.script_of(letters[0])
        for index, letter in enumerate(letters):
            script = scripts.script_of(letter)
            if script != current:
                yield current, letters[start:index]
                start, current = index, script
        yield current, letters[start:]


def _random_texts(seed: int, count: int) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(count):
        yield "".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(0, 80)))


def test_words_of_ascii_and_mixed_text_read_as_letter_by_letter() -> None:
    """`_words` yields what reading each letter's script yields, for ASCII, mixed and
    non-Latin text alike (the ASCII shortcut changes no word and no script)."""
    texts = [
        "Check the checkout-api pods on web-7 (error rate 12%).",
        "Serwer web-1 zwraca błędy, to fałszywy alarm",
        "Этот алерт ложный, ничего делать не нужно",
        "restart 服务器 now",
        *_random_texts(507, 3000),
    ]
    for text in texts:
        assert list(scripts._words(text)) == list(_per_letter_words(text)), text


def test_description_naming_a_fact_is_not_searched_for_the_alert_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A description naming the alert's host is kept without reading the alert's words:
    whatever its language, it names a fact, so the language check cannot refuse it."""
    read: list[str] = []
    real = scripts.alert_words
    monkeypatch.setattr(scripts, "alert_words", lambda quoted: read.append(quoted) or real(quoted))
    quoted = '{"title": "disk full on db-7", "description": "volume at 97%"}'
    assert not scripts.unread_and_unfounded("Dysk na db-7 jest pełny, sprawdź wolumen", quoted)
    assert read == []


def test_unfounded_description_in_an_unread_language_is_still_refused() -> None:
    """A dismissal in a language no check reads, naming nothing of the alert, is still found
    once the alert's words are read only when needed; one copying the alert's words is not."""
    quoted = '{"title": "disk full on db-7", "description": "volume at 97%"}'
    assert scripts.unread_and_unfounded(
        "To jest fałszywy alarm, nie trzeba nic robić, zamknij zgłoszenie", quoted
    )
    assert not scripts.unread_and_unfounded("Check the disk and the volume on the host", quoted)
    polish_alert = '{"title": "fałszywy alarm zgłoszenie zamknij", "description": "nic robić"}'
    assert not scripts.unread_and_unfounded(
        "fałszywy alarm, zamknij zgłoszenie, nic robić", polish_alert
    )
