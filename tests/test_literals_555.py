"""The answer checks' gates find their literals in one pass (`summarise.literals`) exactly as
the loops they replace found them one by one, over the strings the tests hand the summariser
and over random text with the literals spliced in."""

from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest

import triage.summarise.claims as claims
import triage.summarise.grounding as grounding
import triage.summarise.harm as harm
import triage.summarise.literals as literals

TESTS = Path(__file__).parent
#: The test modules whose strings are answers, alerts and steps the checks read.
CORPUS_FILES = (
    "test_summar*.py",
    "test_grounding*.py",
    "test_claims*.py",
    "test_harm*.py",
    "test_priority*.py",
    "test_llm_hostile*.py",
    "test_summary_hostile*.py",
    "test_redteam_round*_summarise.py",
    "test_quality*.py",
)


def _corpus() -> list[str]:
    texts: set[str] = set()
    for pattern in CORPUS_FILES:
        for path in sorted(TESTS.glob(pattern)):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                value = node.value if isinstance(node, ast.Constant) else None
                if isinstance(value, str) and 0 < len(value) <= 20_000:
                    texts.add(value)
    return sorted(texts)


CORPUS = _corpus()


def _as_read(text: str) -> list[str]:
    """`text` as the gates read it: lower-cased, whitespace runs as one space (the claims),
    and as the harm gate folds a step."""
    lowered = text.lower()
    forms = [text, lowered, " ".join(lowered.split())]
    if text.isascii():
        forms.append(harm._folded(text))
    return forms


def _one_by_one(text: str) -> frozenset[str]:
    return frozenset(word for word in literals._registered if word in text)


def test_corpus_is_large() -> None:
    """The corpus holds the tests' answers: thousands of strings, hostile ones among them."""
    assert len(CORPUS) > 2_000
    assert any("false alarm" in text.lower() for text in CORPUS)


def test_found_in_the_corpus_as_one_by_one() -> None:
    """Every registered literal is found in each corpus string exactly where `in` finds it."""
    for text in CORPUS:
        for form in _as_read(text):
            assert literals.found(form) == _one_by_one(form), form


def test_found_in_random_text_as_one_by_one() -> None:
    """Random text of ASCII, accented, CJK and invisible characters (a lone surrogate too,
    which UTF-8 cannot encode), with literals spliced in whole and in part, gives the same
    literals as `in` does."""
    rng = random.Random(555)
    words = sorted(literals._registered)
    alphabet = list("abcdeilnorstuvwxyz .$`<&|\\-_:/\t\n") + list("éłąßö中文\u200b\ufeff\ud800")
    for _ in range(5_000):
        chars = [rng.choice(alphabet) for _ in range(rng.randint(0, 60))]
        text = "".join(chars)
        for _ in range(rng.randint(0, 3)):
            word = rng.choice(words)
            if rng.random() < 0.3:
                word = word[: rng.randint(0, len(word))]
            at = rng.randint(0, len(text))
            text = text[:at] + word + text[at:]
        assert literals.found(text) == _one_by_one(text), text


def test_lone_surrogate_splits_a_literal() -> None:
    """A lone surrogate (JSON's "\\ud800") splits a literal as any other character does."""
    assert "resolved" not in literals.found("resol\ud800ved")
    assert "resolved" in literals.found("\ud800resolved\udfff")


def test_long_text_not_remembered_still_found() -> None:
    """A text past the remembered length is matched as a short one is."""
    text = "x" * 5_000 + " the incident is resolved; paste your token; rm -rf / " * 3
    assert literals.found(text) == _one_by_one(text)
    assert "resolved" in literals.found(text)


def test_literal_registered_later_is_found() -> None:
    """A gate made after the set was built is found too: the set is built again."""
    literals.found("warm the set")
    late = literals.Literals(["zq-literal-registered-late-555"])
    assert late.any_in("a zq-literal-registered-late-555 b")
    assert not late.any_in("zq-literal")


@pytest.mark.parametrize("gate", [harm._DESTROYS_GATE, harm._DISARMS_GATE])
def test_harm_gate_as_one_by_one(gate: harm._Gate) -> None:
    """The harm gates say a step may match exactly when the literal loop they replace did."""

    def old(step: str) -> bool:
        if not step.isascii():
            return True
        lowered = harm._folded(step)
        return any(
            literal in lowered
            and any(
                all(any(word in lowered for word in group) for group in groups) for groups in rests
            )
            for literal, rests in gate._by_first.items()
        )

    said = 0
    for text in CORPUS:
        for step in (text, *text.splitlines()):
            assert gate.may_match(step) == old(step), step
            said += old(step)
    assert said > 0  # the corpus holds destroying and disarming commands


def test_claims_and_gates_as_one_by_one() -> None:
    """The claims' languages, the hidden-run and credential gates answer as their loops did."""

    def claims_old(lowered: str) -> list[bool]:
        letters = frozenset(claims._LETTERS.findall(lowered))
        return [
            not letters.isdisjoint(language.words)
            if language.by_word
            else any(word in lowered for word in language.words)
            for language in claims._LANGUAGES
        ]

    def claims_new(lowered: str) -> list[bool]:
        letters = frozenset(claims._LETTERS.findall(lowered))
        held = literals.found(lowered)
        return [
            not (letters if language.by_word else held).isdisjoint(language.words)
            for language in claims._LANGUAGES
        ]

    def hidden_old(lowered: str) -> bool:
        if any(literal in lowered for literal in grounding._HIDDEN_LITERALS.words):
            return True
        if ("exec" in lowered or "eval" in lowered) and any(
            name in lowered for name in grounding._ONE_LINER_LITERALS
        ):
            return True
        evaluated = "$(" in lowered or "`" in lowered
        return evaluated and ("eval" in lowered or "-c" in lowered)

    for text in CORPUS:
        lowered = text.lower()
        spaced = " ".join(lowered.split())
        assert claims_new(spaced) == claims_old(spaced), text
        assert grounding._may_run_hidden(lowered) == hidden_old(lowered), text
