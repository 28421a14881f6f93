"""The answer checks' cheaper paths change no output: a priority tag is read for what it names
before the text's links and code are found (`priority._agreeing_tags`), and the outputs on
every sample payload's strings and thousands of generated texts are those of the order it
replaced."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

import test_claims_gate_578 as gate_578
from triage.models import Priority
from triage.summarise import priority

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
