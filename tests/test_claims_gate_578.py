"""The misfire claims (`claims._MISFIRED`) are searched for only in text holding the words one
of their alternatives needs (`_MISFIRED_REQUIRES`, `claims._may_claim`), and that gate skips
no claim: every text each alternative can match (its every word, spelt in any case, written
out from the parsed pattern) passes it, and the claims marked in sample payloads' strings and
in texts of the claims' own words are the very ones marked with no such gate."""

from __future__ import annotations

import dataclasses
import itertools
import json
import random
import re._constants as sre
import re._parser as sre_parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from triage.summarise import claims

PAYLOADS = Path(__file__).parent / "payloads"
SAMPLES = sorted(str(path.relative_to(PAYLOADS)) for path in PAYLOADS.rglob("*.json"))
_MISFIRED = next(lang for lang in claims._LANGUAGES if lang.claims is claims._MISFIRED)


def _class(items: list[Any]) -> list[str]:
    """A character of each kind a character class holds."""
    chars: list[str] = []
    for op, arg in items:
        if op is sre.LITERAL:
            chars.append(chr(arg))
        elif op is sre.RANGE:
            chars.append(chr(arg[0]))
        elif op is sre.CATEGORY:
            chars.append({sre.CATEGORY_SPACE: " ", sre.CATEGORY_NOT_WORD: "."}.get(arg, "a"))
        else:
            raise AssertionError(f"unexpected class item {op}")
    return chars


def _written(items: list[Any]) -> Iterator[str]:
    """Every text the parsed `items` match, each repeat written the fewest times it may be
    (and once more when that is none), each class by one character of each kind; assertions
    (`^`, `\\b`, lookarounds) write nothing."""
    if not items:
        yield ""
        return
    op, arg = items[0]
    rest = list(items[1:])
    if op is sre.LITERAL:
        heads: list[str] = [chr(arg)]
    elif op is sre.IN:
        heads = _class(arg)
    elif op is sre.SUBPATTERN:
        heads = list(_written(list(arg[3])))
    elif op is sre.BRANCH:
        heads = [h for alternative in arg[1] for h in _written(list(alternative))]
    elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        once = list(_written(list(arg[2])))
        heads = ([""] if arg[0] == 0 else []) + [h * max(arg[0], 1) for h in once]
    elif op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
        heads = [""]
    else:
        raise AssertionError(f"unexpected operation {op}")
    tails = list(_written(rest))
    for head, tail in itertools.product(dict.fromkeys(heads), tails):
        yield head + tail


def _alternatives() -> list[list[Any]]:
    parsed = list(sre_parse.parse(claims._MISFIRED.pattern, claims._MISFIRED.flags))
    assert len(parsed) == 1 and parsed[0][0] is sre.BRANCH
    return [list(alternative) for alternative in parsed[0][1][1]]


def test_one_set_of_words_per_alternative() -> None:
    """`_MISFIRED_REQUIRES` names the words of each of the pattern's alternatives, in order."""
    assert len(_alternatives()) == len(claims._MISFIRED_REQUIRES) == 18


@pytest.mark.parametrize("index", range(18))
def test_every_text_an_alternative_matches_passes_the_gate(index: int) -> None:
    """Each text alternative `index` matches (its every choice of words, in lower, upper and
    title case, alone and after a sentence) is found by the pattern and passes the gate, and
    the words the gate asks of it are among the alternative's own."""
    texts = list(dict.fromkeys(_written(_alternatives()[index])))
    assert texts
    for text in texts:
        for shown in (text, text.upper(), text.title(), f"Note. {text}."):
            assert claims._MISFIRED.search(shown) is not None, shown
            assert claims._may_claim(_MISFIRED, shown, None), shown
    words = {w for text in texts for w in claims._LETTERS.findall(text.lower())}
    for required in claims._MISFIRED_REQUIRES[index]:
        assert required <= words | {"errors"}, (index, required - words)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *_strings(v))]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _ungated(monkeypatch: pytest.MonkeyPatch) -> None:
    languages = tuple(dataclasses.replace(lang, requires=()) for lang in claims._LANGUAGES)
    monkeypatch.setattr(claims, "_LANGUAGES", languages)


def _texts_of_words(count: int) -> list[str]:
    """Texts of the misfire claims' words and others, in random order, case and spacing."""
    rng = random.Random(578)
    words = sorted(
        {w for sets in claims._MISFIRED_REQUIRES for s in sets for w in s}
        | {"the", "alert", "is", "was", "this", "it", "has", "been", "now", "a", "an", "for"}
        | {"safely", "already", "errors", "p4", "5xx", "check", "monitor", "\u017fpurious"}
    )
    marks = [" ", " ", " ", "  ", "\n", ". ", ", ", "; ", "! "]
    texts = []
    for _ in range(count):
        picked = [rng.choice(words) for _ in range(rng.randrange(2, 9))]
        picked = [w.upper() if rng.random() < 0.1 else w for w in picked]
        texts.append("".join(w + rng.choice(marks) for w in picked).strip())
    return texts


def _marked(texts: list[str]) -> list[tuple[str, int]]:
    return [claims._marked_claims(text) for text in texts]


def test_texts_of_the_claims_words_are_marked_as_without_the_gate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Thousands of texts of the claims' words mark the same claims with and without it."""
    texts = _texts_of_words(6000)
    gated = _marked(texts)
    _ungated(monkeypatch)
    assert _marked(texts) == gated
    assert sum(count for _, count in gated) > 100  # the texts do hold claims


@pytest.mark.parametrize("name", SAMPLES)
def test_a_samples_strings_are_marked_as_without_the_gate(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every string of a sample payload marks the same claims with and without it."""
    try:
        payload = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    except ValueError:
        pytest.skip("not JSON")
    texts = _strings(payload)
    gated = _marked(texts)
    _ungated(monkeypatch)
    assert _marked(texts) == gated
