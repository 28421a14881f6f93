"""The patterns of a file that share an alphabet are searched as one RE2 set: it finds, for
every text, exactly the patterns that each program finds alone (and so what `re` finds)."""

from __future__ import annotations

import random
import re
from pathlib import Path

from test_patterns_search_cost_linear import (
    BUNDLED,
    CONSTRUCTS,
    HOSTILE,
    PIECES,
    QUADRATIC_IN_RE,
    _file,
    _view,
)
from triage.summarise.deterministic import MATCH_CHARS, Pattern, Programs, load_patterns, match


def _alone(patterns: tuple[Pattern, ...], text: str) -> set[int]:
    """The indexes of the patterns whose own program finds `text`."""
    found = set()
    for pattern in patterns:
        assert pattern.linear is not None
        if pattern.linear.search(pattern.linear.alphabet.encode(text)):
            found.add(pattern.index)
    return found


def _together(patterns: tuple[Pattern, ...], text: str) -> set[int]:
    """The indexes the sets of the patterns' alphabets find in `text`."""
    found: set[int] = set()
    alphabets = {id(p.linear.alphabet): p.linear.alphabet for p in patterns if p.linear}
    for alphabet in alphabets.values():
        programs = patterns[0].programs
        assert isinstance(programs, Programs)
        matching = programs.matching(alphabet, alphabet.encode(text))
        assert matching is not None  # the set was built
        found |= matching
    return found


def _texts(words: list[str], seed: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(1500):
        pieces = [rng.choice(PIECES) for _ in range(rng.randrange(1, 10))]
        pieces += [rng.choice(words) for _ in range(rng.randrange(0, 4))]
        rng.shuffle(pieces)
        texts.append("".join(ch.upper() if rng.random() < 0.3 else ch for ch in "".join(pieces)))
    return texts


def test_the_set_finds_what_each_construct_finds_alone(tmp_path: Path) -> None:
    """Over texts of tricky characters and words, the set of anchors, word boundaries in both
    modes, scoped flags and counted repeats finds exactly the constructs found alone."""
    loaded = _loaded(tmp_path, *CONSTRUCTS)
    words = ["disk full", "kill", "cert", "errors", "1 errors", "job failed", "x.py"]
    matched = 0
    for text in _texts(words, 546):
        alone = _alone(loaded, text)
        assert _together(loaded, text) == alone, text
        matched += len(alone)
    assert matched > 1000


def test_the_set_finds_what_each_bundled_pattern_finds_alone() -> None:
    """The bundled patterns' own words among tricky characters: the set of the bundled file
    finds what each of its patterns finds alone, and `match` the first three of them."""
    words = [w for p in BUNDLED for w in re.findall(r"[A-Za-z0-9_ ]{2,}", p.regex.pattern)]
    matched = 0
    for text in _texts(words, 5461):
        alone = _alone(BUNDLED, text)
        assert _together(BUNDLED, text) == alone, text
        found = [p.index for p in match(BUNDLED, _view(text))]
        assert found == sorted(_alone(BUNDLED, f"t {text}"))[:3], text
        matched += len(alone)
    assert matched > 100


def test_the_set_reads_a_hostile_text_as_each_program_does(tmp_path: Path) -> None:
    """On long runs of what the loops take, the set answers as the programs alone do."""
    loaded = _loaded(tmp_path, *QUADRATIC_IN_RE) + BUNDLED
    for text in HOSTILE:
        cut = text[:MATCH_CHARS]
        assert _together(loaded[: len(QUADRATIC_IN_RE)], cut) == _alone(
            loaded[: len(QUADRATIC_IN_RE)], cut
        )
        assert _together(BUNDLED, cut) == _alone(BUNDLED, cut)
        assert match(loaded, _view(text)) == []


def _loaded(tmp_path: Path, *regexes: str) -> tuple[Pattern, ...]:
    loaded = load_patterns(_file(tmp_path, *regexes))
    assert all(p.linear is not None for p in loaded)
    return loaded
