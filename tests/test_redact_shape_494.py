"""What lets `scrub` skip a rule without the regex engine (`_Rule.shape`, `_Rule.gate`) and
the needle searches split by first character (`_any_needle`) change what is found in no text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from triage.redact import scrub
from triage.redact.rule import _parser, _starts_at_line
from triage.redact.rules import _RULES

PAYLOADS = Path(__file__).parent / "payloads"


def _texts() -> list[str]:
    """Every payload file's text, and each string inside it, with a few made to test the
    gates' edges (a 40-character key, a card number, a hex run, a broken line)."""
    found: list[str] = [
        "key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY end",
        "card 4111 1111 1111 1111 paid",
        "x 70617373776f72643d68756e74657232 y",
        "DB_PASS\nWORD=hunter2xyz",
        "00000000: 7061 7373 776f 7264 3d68 756e  password=hun\n",
    ]

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                found.append(str(key))
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for path in sorted(PAYLOADS.rglob("*.json")):
        raw = path.read_text()
        found.append(raw)
        walk(json.loads(raw))
    return found


TEXTS = _texts()


@pytest.mark.parametrize(
    ("source", "anchored"),
    [
        (r"(?m)^key", True),
        (r"(?m)(^[ \t]{0,8}key)", True),
        (r"(?P<head>(?m:^)a)|(?m:^)b", True),
        (r"(?=x)^x", True),
        (r"\Akey", True),
        (r"^a|b", False),
        (r"(?:^a)?b", False),
        (r"x(?m:^)y", False),
        (r"(?<=\n)key", False),
    ],
)
def test_a_pattern_starts_at_a_line_only_when_every_branch_does(
    source: str, anchored: bool
) -> None:
    """`_starts_at_line` says yes only when every match starts with a line-start anchor."""
    assert _starts_at_line(_parser.parse(source, 0)) is anchored


def test_a_rule_skipped_by_its_shape_or_gate_matches_nothing_there() -> None:
    """Over every payload text, a rule its shape or gate skips finds no match in the text."""
    skipped = 0
    for rule in _RULES:
        line_start, min_chars = rule.shape
        if rule.gate is None and not line_start:
            continue
        for text in TEXTS:
            short = len(text) < min_chars
            gated = rule.gate is not None and not rule.gate(text)
            off_line = line_start and "\n" not in text and rule.pattern.match(text) is None
            if short or gated or off_line:
                skipped += 1
                assert rule.pattern.search(text) is None, (rule.source[:80], text[:120])
    assert skipped > 1000


def test_the_split_needle_searches_find_what_one_search_finds() -> None:
    """`_needle_sets_in` gives each text the needle sets one search over every needle gives."""
    searches = scrub._needle_searches()
    whole_written = re.compile(scrub._trie(sorted(searches.written_bits)))
    whole_folded = re.compile(scrub._trie(sorted(searches.folded_bits)))
    assert len(searches.written) > 1
    for text in TEXTS:
        present = 0
        for haystack, search, bits in (
            (text, whole_written.search, searches.written_bits),
            (scrub._fold(text), whole_folded.search, searches.folded_bits),
        ):
            match = search(haystack)
            while match is not None:
                present |= bits[match[0]]
                match = search(haystack, match.start() + 1)
        assert scrub._needle_sets_in(text) == present, text[:120]
