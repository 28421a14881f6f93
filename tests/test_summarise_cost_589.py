"""The answer checks' cheaper paths change no output: a priority tag is read for what it names
before the text's links and code are found (`priority._agreeing_tags`), and grounding reads a
short text's words run by run (`grounding._FACT_BY_RUNS`); the outputs on every sample
payload's strings and thousands of generated texts are those of the ways they replaced."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

import test_claims_gate_578 as gate_578
import test_literals_555 as literals_555
from triage.models import Priority
from triage.summarise import grounding, priority

PAYLOADS = Path(__file__).parent / "payloads"
SAMPLES = sorted(str(path.relative_to(PAYLOADS)) for path in PAYLOADS.rglob("*.json"))


def _old_agreeing_tags(text: str, final: Priority, verbatim: priority._Verbatim) -> tuple[str, int]:
    """`priority._agreeing_tags` as it was: whether a match stands in a link or code first."""
    if not priority._MAY_TAG.search(text):
        return text, 0
    corrected = 0

    def correct(match: re.Match[str]) -> str:
        nonlocal corrected
        if not priority._a_tag(match, text, verbatim) or priority._tagged(match) in (None, final):
            return match[0]
        corrected += 1
        level = match["lead"] or match["tail"]
        if level is not None:
            at = match.start("lead" if match["lead"] else "tail") - match.start()
            said = f"{priority._said(level, final)} (corrected from {level})"
            return match[0][:at] + said + match[0][at + len(level) :]
        value = match["value"]
        at, end = match.start("value") - match.start(), match.end("value") - match.start()
        return (
            f"{match[0][:at]}{priority._said(value, final)}, corrected from {value}{match[0][end:]}"
        )

    return priority._LINE_TAG.sub(correct, text), corrected


def _agreed(texts: list[str]) -> list[tuple[str, int]]:
    return [
        priority.agreeing(text, final, severity=severity, prose=True, quoting="p1 sev-2")
        for text in texts
        for final in Priority
        for severity in (None, "critical", "P2")
    ]


def _tagged_texts(count: int) -> list[str]:
    """Texts of priority tags, levels, statements, brackets naming other things, links and
    code, in random order and on one line or several."""
    rng = random.Random(589)
    pieces = [
        "[P0]", "[p1]", "(P2)", "[SEV-1]", "[critical]", "[Platform]", "(kubectl get pods)",
        "[High]", "(low)", "[warning]", "[FIRING:1]", "【P1】", "\uff08紧急\uff09", "P0:", "- P3",
        "| SEV2", "Priority: critical", "severity: P1", "`[P0]`", "https://x.example/[P1]",
        "runbooks.example.com/p?priority=P0", "[link](https://x.example/(P1))", "```\n[P0]\n```",
        "Treat as P4.", "a SEV-1 incident", "Disk full", "on web-1", "\n", " ", "(P1, corrected",
    ]  # fmt: skip
    texts = []
    for _ in range(count):
        picked = [rng.choice(pieces) for _ in range(rng.randrange(1, 7))]
        texts.append(" ".join(picked))
    return texts


def test_tags_are_corrected_as_in_the_order_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    """Thousands of texts of tags, brackets, statements, links and code come out of `agreeing`
    as they did when a tag's place in links and code was read first."""
    texts = _tagged_texts(3000)
    now = _agreed(texts)
    monkeypatch.setattr(priority, "_agreeing_tags", _old_agreeing_tags)
    assert _agreed(texts) == now
    assert sum(count for _, count in now) > 1000  # the texts do hold tags to correct


@pytest.mark.parametrize("name", SAMPLES)
def test_a_samples_strings_agree_as_in_the_order_replaced(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every string of a sample payload comes out of `agreeing` as it did."""
    try:
        payload = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    except ValueError:
        pytest.skip("not JSON")
    texts = gate_578._strings(payload)
    now = _agreed(texts)
    monkeypatch.setattr(priority, "_agreeing_tags", _old_agreeing_tags)
    assert _agreed(texts) == now


def test_a_bracket_naming_no_priority_finds_no_links(monkeypatch: pytest.MonkeyPatch) -> None:
    """A description whose only bracket names no priority ("[Platform]") is not searched for
    links and code, which only a tag naming another priority needs."""
    searched: list[str] = []
    real = priority._Verbatim.holds

    def holds(self: priority._Verbatim, at: int) -> bool:
        searched.append(self._text)
        return real(self, at)

    monkeypatch.setattr(priority._Verbatim, "holds", holds)
    text = "[Platform] Queue depth went from 200 to 14,000 (see https://x.example/q)."
    assert priority.agreeing(text, Priority.HIGH, prose=True) == (text, 0)
    assert searched == []
    assert priority.agreeing("[P0] Queue depth", Priority.HIGH, prose=True)[1] == 1
    assert searched


def _fact_matches(pattern: re.Pattern[str], text: str) -> list[object]:
    return [(m.span(), m.lastgroup, m.groupdict()) for m in pattern.finditer(text)]


def _texts_of_tokens(count: int) -> list[str]:
    """Texts of words, numbers, dotted and hyphenated names, addresses, links and marks."""
    rng = random.Random(5890)
    pieces = [
        "web-1", "db-7.internal", "a--b", "x---y", "p99.9", "10.0.0.1", "::1", "fe80::1",
        "2026-11-23T09:00:00Z", "09:00", "95%", "1,000.5", "12GB", "i-0abc123def", "arn:aws:x",
        "https://x.example/a.b", "tls 1.2", "x.509", "24/7", "deadbeefcafe", "order_service",
        "word", "Word.", "-", "--", ".", ":", "..", "a.", ".b", "_x_", "\u017fs", "\u212a8s",
        "ninety", "éa-b", "٣٤", "\n", " ", "  ", ",", "(", ")",
    ]  # fmt: skip
    return [
        "".join(rng.choice(pieces) + rng.choice(["", " ", "-", ".", "\n"]) for _ in range(n))
        for n in (rng.randrange(1, 30) for _ in range(count))
    ]


def test_the_runs_pattern_differs_only_in_its_words() -> None:
    """`_FACT_BY_RUNS` is `_FACT` with its word group written by runs, nothing else."""
    assert grounding._WORD in grounding._FACT.pattern
    assert grounding._FACT_BY_RUNS.pattern == grounding._FACT.pattern.replace(
        grounding._WORD, r"(?P<word>(?<![\w.-])\w++(?:(?:\.|--?)\w++)*+)"
    )
    assert grounding._FACT_BY_RUNS.flags == grounding._FACT.flags


def test_facts_are_found_as_fact_finds_them() -> None:
    """Thousands of texts of tokens, and words up to `_RUNS_MOST` characters long, give
    `_FACT_BY_RUNS` the very matches (place, kind, groups) `_FACT` gives."""
    texts = _texts_of_tokens(6000)
    most = grounding._RUNS_MOST
    texts += ["a" * most, "a" * (most - 1) + ".", "a-" * (most // 2), ("ab." * most)[:most]]
    for text in texts:
        assert len(text) <= most
        assert _fact_matches(grounding._FACT_BY_RUNS, text) == _fact_matches(
            grounding._FACT, text
        ), text


def _grounded(texts: list[str], shown: grounding.Evidence) -> list[object]:
    return [(grounding.check(t, shown), grounding.check_step(t, shown)) for t in texts]


def test_a_longer_text_is_read_by_fact() -> None:
    """A text longer than `_RUNS_MOST` is read by `_FACT`, which bounds a word to 4,096
    characters (by runs, it would be one word of 5,000)."""
    text = "a" * 5000 + " 12.5%"
    assert [m.span() for m in grounding._facts(text)] == [(0, 4096), (5001, 5006)]
    assert [m.span() for m in grounding._FACT_BY_RUNS.finditer(text)] == [(0, 5000), (5001, 5006)]


@pytest.mark.parametrize("name", SAMPLES)
def test_a_samples_strings_are_grounded_as_by_fact(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every string of a sample payload, checked against the payload's own text and against
    none, is grounded as `_FACT` alone grounds it."""
    try:
        payload = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    except ValueError:
        pytest.skip("not JSON")
    texts = gate_578._strings(payload)
    for shown in (grounding.evidence({"payload": payload}), grounding.evidence({})):
        now = _grounded(texts, shown)
        with monkeypatch.context() as patched:
            patched.setattr(grounding, "_FACT_BY_RUNS", grounding._FACT)
            assert _grounded(texts, shown) == now


def test_the_tests_answers_read_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    """The strings of the answer checks' tests (`test_literals_555.CORPUS`) give the very
    fact matches `_FACT` gives, and come out of `agreeing` as in the order replaced."""
    texts = literals_555.CORPUS
    for text in texts:
        if len(text) <= grounding._RUNS_MOST:
            assert _fact_matches(grounding._FACT_BY_RUNS, text) == _fact_matches(
                grounding._FACT, text
            ), text
    now = _agreed(texts)
    monkeypatch.setattr(priority, "_agreeing_tags", _old_agreeing_tags)
    assert _agreed(texts) == now
