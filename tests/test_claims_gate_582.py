"""Every claims language with a words gate (`_Language.requires`: the misfire claims and the
steps putting the alert off) is searched only for the alternatives whose words the text
holds (`claims._feasible`, `claims._narrowed`), and that skips no claim: the pattern splits
into the very alternatives `re` parses, every text each alternative can match (written out
from the parsed pattern) is found by that alternative searched alone and passes the gate,
and the claims marked in sample payloads' strings and in texts of the claims' own words are
the very ones marked with no gate."""

from __future__ import annotations

import json
import random
import re
import re._constants as sre
import re._parser as sre_parse
from pathlib import Path
from typing import Any

import pytest

import test_claims_gate_578 as gate_578
from triage.summarise import claims

PAYLOADS = Path(__file__).parent / "payloads"
SAMPLES = sorted(str(path.relative_to(PAYLOADS)) for path in PAYLOADS.rglob("*.json"))
GATED = {
    name: next(lang for lang in claims._LANGUAGES if lang.claims is getattr(claims, name))
    for name in ("_MISFIRED", "_PUT_OFF")
}
#: The most texts of one alternative checked (a sample of them when it has more).
_MOST = 4000
CASES = [(name, index) for name, lang in GATED.items() for index in range(len(lang.requires))]


def _parsed_alternatives(pattern: re.Pattern[str]) -> list[list[Any]]:
    """The pattern's top-level alternatives as `re` parses them, each with the prefix `re`
    factors out of them all (a `\\b`), without the word-start lookahead."""
    items = list(sre_parse.parse(pattern.pattern, pattern.flags))
    if items[0][0] is sre.ASSERT:
        items = items[1:]
    if items and items[-1][0] is sre.BRANCH:
        common = items[:-1]
        return [common + list(alternative) for alternative in items[-1][1][1]]
    return [items]


def _written(items: list[Any]) -> list[str]:
    """Every text `items` match, as `test_claims_gate_578._written` writes them, a class
    that excludes characters (`[^\\n|;&]`) written as a space."""
    real = gate_578._class

    def _class(class_items: list[Any]) -> list[str]:
        if class_items and class_items[0][0] is sre.NEGATE:
            assert " " not in {chr(arg) for op, arg in class_items if op is sre.LITERAL}
            return [" "]
        return real(class_items)

    gate_578._class = _class  # type: ignore[assignment]
    try:
        return list(dict.fromkeys(gate_578._written(items)))
    finally:
        gate_578._class = real  # type: ignore[assignment]


@pytest.mark.parametrize("name", GATED)
def test_the_pattern_splits_into_its_parsed_alternatives(name: str) -> None:
    """`claims._alternatives` splits the source into the alternatives `re` parses, in order,
    one set of words each, and each searched alone parses as the one it stands for."""
    language = GATED[name]
    _, alternatives, _ = claims._alternatives(language.claims.pattern)
    parsed = _parsed_alternatives(language.claims)
    assert len(alternatives) == len(parsed) == len(language.requires)
    for index, expected in enumerate(parsed):
        alone = claims._narrowed(language, (index,)).claims
        assert alone.flags == language.claims.flags
        assert str(_parsed_alternatives(alone)[0]) == str(expected), index
    assert claims._narrowed(language, tuple(range(len(parsed)))) is language


@pytest.mark.parametrize(("name", "index"), CASES)
def test_every_text_an_alternative_matches_passes_the_gate(name: str, index: int) -> None:
    """Each text alternative `index` matches (its every choice of words, in lower, upper and
    title case, alone and after a sentence) is found by the alternative searched alone, and
    the gate keeps that alternative; the words it asks for are among the alternative's own.
    An alternative of more than `_MOST` texts is checked on a sample of them."""
    language = GATED[name]
    alone = claims._narrowed(language, (index,)).claims
    texts = _written(_parsed_alternatives(language.claims)[index])
    if len(texts) > _MOST:  # a step naming a tracker: ~10^5 choices of words
        texts = random.Random(index).sample(texts, _MOST)
    found = [text for text in texts if language.claims.search(text) is not None]
    assert len(found) * 2 >= len(texts)  # a `\b` written against a letter makes no match
    for text in found:
        for shown in (text, text.upper(), text.title(), f"Note. {text}."):
            assert alone.search(shown) is not None, shown
            feasible = claims._feasible(language, shown, None)
            assert feasible is None or index in feasible, shown
    words = {w for text in found for w in claims._LETTERS.findall(text.lower())}
    for required in language.requires[index]:
        assert required <= words | {"errors"}, (index, required - words)


def _ungated(monkeypatch: pytest.MonkeyPatch) -> None:
    gate_578._ungated(monkeypatch)


def _texts_of_words(count: int) -> list[str]:
    """Texts of the gated claims' words and others, in random order, case and spacing, and
    half of them a claim (written from an alternative), one of its words replaced or left
    out, after other words."""
    rng = random.Random(582)
    words = sorted(
        {w for lang in GATED.values() for sets in lang.requires for s in sets for w in s}
        | {"the", "alert", "is", "was", "this", "it", "has", "been", "now", "a", "an", "for"}
        | {"ticket", "jira", "status", "page", "next", "business", "it's", "won't", "at", "with"}
        | {"safely", "already", "errors", "p4", "5xx", "check", "monitor", "\u017fpurious"}
    )
    marks = [" ", " ", " ", "  ", "\n", ". ", ", ", "; ", "! ", ": "]
    claimed = [
        text
        for lang in GATED.values()
        for alternative in _parsed_alternatives(lang.claims)
        for text in _written(alternative)[:40]
    ]
    texts = []
    for _ in range(count):
        if rng.random() < 0.5:  # a claim, a word of it replaced or left out, among others
            picked = rng.choice(claimed).split()
            if rng.random() < 0.6:
                at = rng.randrange(len(picked))
                picked[at : at + 1] = [rng.choice(words)] if rng.random() < 0.5 else []
            picked = [rng.choice(words) for _ in range(rng.randrange(3))] + picked
        else:
            picked = [rng.choice(words) for _ in range(rng.randrange(2, 10))]
        picked = [w.upper() if rng.random() < 0.1 else w for w in picked]
        texts.append("".join(w + rng.choice(marks) for w in picked).strip())
    return texts


def test_texts_of_the_claims_words_are_marked_as_without_the_gate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Thousands of texts of the gated claims' words mark the same claims with and without
    the gate."""
    texts = _texts_of_words(8000)
    gated = gate_578._marked(texts)
    _ungated(monkeypatch)
    assert gate_578._marked(texts) == gated
    assert sum(count for _, count in gated) > 100  # the texts do hold claims


@pytest.mark.parametrize("name", SAMPLES)
def test_a_samples_strings_are_marked_as_without_the_gate(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every string of a sample payload marks the same claims with and without the gate."""
    try:
        payload = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    except ValueError:
        pytest.skip("not JSON")
    texts = gate_578._strings(payload)
    gated = gate_578._marked(texts)
    _ungated(monkeypatch)
    assert gate_578._marked(texts) == gated
