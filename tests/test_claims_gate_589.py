"""The English claims (`claims._CLAIM`) and the other languages' (`claims._FOREIGN_CLAIM`) have
a words gate too (`_Language.requires`): in ASCII text each is searched only for the
alternatives whose words the text holds, so a bare "fixed" or "test" no longer searches all
of them. The gate skips no claim: every text each alternative can match (written out from the
parsed pattern) is found by that alternative searched alone and passes the gate, an
alternative the gate never opens in ASCII text matches no ASCII text, and the claims marked in
sample payloads' strings and in texts of the claims' own words are the very ones marked with
no gate."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

import test_claims_gate_578 as gate_578
import test_claims_gate_582 as gate_582
import test_literals_555 as literals_555
from triage.summarise import claims

PAYLOADS = Path(__file__).parent / "payloads"
SAMPLES = sorted(str(path.relative_to(PAYLOADS)) for path in PAYLOADS.rglob("*.json"))
GATED = {
    name: next(lang for lang in claims._LANGUAGES if lang.claims is getattr(claims, name))
    for name in ("_CLAIM", "_FOREIGN_CLAIM")
}
#: The most texts of one alternative checked (a sample of them when it has more).
_MOST = 4000
CASES = [(name, index) for name, lang in GATED.items() for index in range(len(lang.requires))]


def _unnumbered(items: list[Any]) -> str:
    return re.sub(r"\(SUBPATTERN, \(\d+,", "(SUBPATTERN, (N,", str(items))


@pytest.mark.parametrize("name", GATED)
def test_the_pattern_splits_into_its_parsed_alternatives(name: str) -> None:
    """`claims._alternatives` splits the source into the alternatives `re` parses, in order,
    one set of words each, and each searched alone parses as the one it stands for (but for
    its groups' numbers: `step` is the first group of an alternative searched alone)."""
    language = GATED[name]
    _, alternatives, _ = claims._alternatives(language.claims.pattern)
    parsed = gate_582._parsed_alternatives(language.claims)
    assert len(alternatives) == len(parsed) == len(language.requires)
    for index, expected in enumerate(parsed):
        alone = claims._narrowed(language, (index,)).claims
        assert alone.flags == language.claims.flags
        assert _unnumbered(gate_582._parsed_alternatives(alone)[0]) == _unnumbered(expected)
    assert claims._narrowed(language, tuple(range(len(parsed)))) is language


@pytest.mark.parametrize(("name", "index"), CASES)
def test_every_text_an_alternative_matches_passes_the_gate(name: str, index: int) -> None:
    """Each text alternative `index` matches (its every choice of words) is found by the
    alternative searched alone, and wherever that finds it (in lower, upper and title case,
    alone, after a sentence, on a line of its own) the gate keeps that alternative; the words
    it asks for are among the alternative's own, and one that asks for a word of an empty set
    matches only text beyond ASCII. An alternative of more than `_MOST` texts is checked on a
    sample of them."""
    language = GATED[name]
    alone = claims._narrowed(language, (index,)).claims
    texts = gate_582._written(gate_582._parsed_alternatives(language.claims)[index])
    if len(texts) > _MOST:
        texts = random.Random(index).sample(texts, _MOST)
    found = [text for text in texts if language.claims.search(text) is not None]
    assert len(found) * 2 >= len(texts)  # a `\b` written against a letter makes no match
    for text in found:
        assert alone.search(text) is not None, text
        for shown in (text, text.upper(), text.title(), f"Note. {text}.", f"Note:\n{text}\n"):
            if alone.search(shown) is None:
                # a claim at a line's start or end, or a German sharp s upper-cased as "SS"
                assert shown.startswith("Note") or len(shown) != len(text), shown
                continue
            feasible = claims._feasible(language, shown, None)
            assert feasible is None or index in feasible, shown
    if frozenset() in language.requires[index]:
        assert not any(text.isascii() for text in found), index
        return
    words = {w for text in found for w in claims._LETTERS.findall(text.lower())}
    for required in language.requires[index]:
        assert required <= words, (index, required - words)


def _texts_of_words(count: int) -> list[str]:
    """Texts of the gated claims' words and others, in random order, case and spacing, and
    half of them a claim (written from an alternative), one of its words replaced or left
    out, after other words."""
    rng = random.Random(589)
    words = sorted(
        {w for lang in GATED.values() for sets in lang.requires for s in sets for w in s}
        | {"the", "alert", "is", "was", "this", "it", "has", "been", "now", "a", "an", "for"}
        | {"ticket", "not", "test", "testing", "latest", "fixed", "action", "clear", "its"}
        | {"safely", "already", "errors", "transaction", "ignored", "\u017felf", "\u212auto"}
    )
    marks = [" ", " ", " ", "  ", "\n", ". ", ", ", "; ", "! ", ": ", "-", "'"]
    claimed = [
        text
        for lang in GATED.values()
        for alternative in gate_582._parsed_alternatives(lang.claims)
        for text in gate_582._written(alternative)[:40]
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
    texts = _texts_of_words(10000)
    gated = gate_578._marked(texts)
    gate_578._ungated(monkeypatch)
    assert gate_578._marked(texts) == gated
    assert sum(count for _, count in gated) > 1000  # the texts do hold claims


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
    gate_578._ungated(monkeypatch)
    assert gate_578._marked(texts) == gated


def test_the_tests_answers_are_marked_as_without_the_gate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The strings of the answer checks' tests (`test_literals_555.CORPUS`: hostile answers,
    dismissals in many languages) mark the same claims with and without the gate."""
    texts = literals_555.CORPUS
    gated = gate_578._marked(texts)
    gate_578._ungated(monkeypatch)
    assert gate_578._marked(texts) == gated
    assert sum(count for _, count in gated) > 300  # the corpus does hold claims
