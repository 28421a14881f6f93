"""The prefixed-token rules as a tree of their prefixes' letters (`rule._prefixed_each`): the
regex engine reads a position's letter once and skips to the positions a prefix can start at,
and every text matches as the plain alternation of the prefixes matched it."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from triage.redact.rule import _prefix_alone, _prefixed, _prefixed_each
from triage.redact.rules import _RULES
from triage.redact.tokens import _VENDOR_PREFIXES

_parser: Any = re._parser  # type: ignore[attr-defined]

#: The vendors' prefixes with a body each, as the vendor token rule reads them.
VENDOR_SHAPES = [(prefix, "[A-Za-z0-9_-]{20,64}") for prefix in _VENDOR_PREFIXES] + [
    ("dapi", "[0-9a-f]{32}"),
    ("key-", "(?=[a-z]{0,31}[0-9])[0-9a-z]{32}"),
]


def _alternation(shapes: list[tuple[str, str]]) -> str:
    """The shapes as one branch each, in order: what the tree must match exactly as."""
    return "(?:" + "|".join(f"(?:{_prefix_alone(p)})(?:{b})" for p, b in shapes) + ")"


def _first_ops(pattern: str) -> list[Any]:
    """The first item of each top-level branch of `pattern` (one item when it has none)."""
    items = _parser.parse(pattern)
    op, av = items[0]
    while op is _parser.SUBPATTERN:
        op, av = av[3][0]
    if op is _parser.BRANCH:
        return [branch[0][0] for branch in av[1]]
    return [op]


def _random_texts(seed: int, count: int) -> list[str]:
    """Texts of the vendors' prefixes (some cut, some after a letter or an escape) and runs of
    token characters."""
    rng = random.Random(seed)
    pieces = [p for p, _ in VENDOR_SHAPES] + ["\\n", "x", " ", "=", "-", "_", "."]
    alphabet = "abcdef0123456789ABCDEFXYZ_-"
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 8)):
            if rng.random() < 0.5:
                piece = rng.choice(pieces)
                parts.append(piece[: rng.randint(1, len(piece))] if rng.random() < 0.2 else piece)
            else:
                parts.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))))
        texts.append("".join(parts))
    return texts


def test_tree_starts_every_branch_with_a_literal() -> None:
    """The vendor prefixes' tree has only literal-led branches, so the engine skips by them."""
    ops = _first_ops(_prefixed_each(VENDOR_SHAPES))
    assert len(ops) > 1
    assert all(op is _parser.LITERAL for op in ops)


def test_tree_reads_each_first_letter_once() -> None:
    """Prefixes sharing a first letter share one branch: no letter heads two branches."""
    pattern = _prefixed_each(VENDOR_SHAPES)
    items = _parser.parse(pattern)
    op, av = items[0]
    while op is _parser.SUBPATTERN:
        op, av = av[3][0]
    firsts = [branch[0][1] for branch in av[1]]
    assert len(firsts) == len(set(firsts)) < len(VENDOR_SHAPES)


@pytest.mark.parametrize("flags", [0, re.IGNORECASE])
def test_tree_matches_as_the_alternation(flags: int) -> None:
    """On random texts of the prefixes, the tree finds and replaces what the alternation does."""
    tree = re.compile(_prefixed_each(VENDOR_SHAPES), flags)
    plain = re.compile(_alternation(VENDOR_SHAPES), flags)
    for text in _random_texts(524 + flags, 3000):
        assert tree.subn("[R]", text) == plain.subn("[R]", text), text


def test_prefix_of_another_keeps_the_order() -> None:
    """When one prefix starts another, the branches stay in order: the first that matches wins."""
    shapes = [("ab", "c?"), ("abc", "d")]
    pattern = re.compile(_prefixed_each(shapes))
    assert pattern.match("abcd")[0] == "abc"  # type: ignore[index]
    assert pattern.pattern == _alternation(shapes)


def test_plain_prefixes_still_checked_at_a_word_start() -> None:
    """`_prefixed` in tree form still refuses a prefix right after a letter, not after `\\n`."""
    pattern = re.compile(_prefixed("glsa_", "glc_", "ghp_") + "[a-z]{4}")
    assert pattern.findall("xglsa_abcd glc_abcd \\nghp_abcd") == ["glc_abcd", "ghp_abcd"]


def test_vendor_rule_leads_with_its_prefixes() -> None:
    """The vendor token rules (Grafana's glsa_ among 70 prefixes: the whole token's, and the
    one for a token cut short) start with a literal in each branch, so a text is scanned for
    their prefixes' letters, not tried at every position."""
    rules = [r for r in _RULES if "glsa_" in r.needles]
    assert len(rules) == 2
    for rule in rules:
        ops = _first_ops(rule.source)
        assert all(op is _parser.LITERAL for op in ops)


def _biggest_needle_set() -> tuple[int, tuple[str, ...]]:
    """The bit and needles of the rules' largest needle set (a secret's name: 400-odd)."""
    from triage.redact.scrub import _RUNS

    _, _, bit, needles, _ = max(_RUNS, key=lambda run: len(run[3]))
    return bit, needles


def test_big_needle_set_is_one_search() -> None:
    """A set of hundreds of needles is looked for by one search, not one `in` pass each."""
    from triage.redact.scrub import _IN_TESTS_MAX, _holds_any

    bit, needles = _biggest_needle_set()
    assert len(needles) > _IN_TESTS_MAX
    assert _holds_any(bit, needles).__code__.co_names.count("any") == 0


def test_holds_any_answers_as_in_tests() -> None:
    """The search for a needle set answers as an `in` test of each needle, on texts holding
    each needle (cut short too), none, or one inside other text."""
    from triage.redact.scrub import _fold, _holds_any

    bit, needles = _biggest_needle_set()
    holds = _holds_any(bit, needles)
    rng = random.Random(524)
    texts = ["", "nothing here at all", "x" * 5000]
    for needle in needles:
        texts += [needle, f"a {needle} b", needle[:-1], f"{needle[:-1]}\u00e9{needle[-1:]}"]
    texts += [
        "".join(rng.choice("patosekn_-.: \u0131\u017f") for _ in range(60)) for _ in range(500)
    ]
    for text in texts:
        folded = _fold(text)
        assert holds(folded) == any(needle in folded for needle in needles), text
