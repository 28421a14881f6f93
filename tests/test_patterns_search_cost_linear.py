"""Every known-error pattern RE2 can run is searched by it, reading an alert's text once, and
finds exactly what Python's `re` finds; one RE2 cannot run (a lookaround, a back-reference,
a possessive repeat) is searched by `re` in the alert's first characters only, and says so in
one log line. Work is counted as the characters each engine is handed, not as time."""

from __future__ import annotations

import copy
import dataclasses
import random
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
import structlog

from triage.models import Priority, Status
from triage.summarise import deterministic
from triage.summarise.deterministic import (
    MATCH_CHARS,
    PARTLY_SEARCHED_CHARS,
    Pattern,
    Programs,
    load_patterns,
    match,
)
from triage.view import RedactedAlert

BUNDLED = load_patterns()

#: Operator patterns `re` searches in quadratic time on a long run without a match.
QUADRATIC_IN_RE = (
    r"([a-z0-9-]+\.)+example\.com",
    r"\w+@",
    r"[a-z]+ failed",
    r"cert\w*x",
    r"\d+ errors",
    r"[a-z_]+\.py",
)


class Recorded:
    """An engine's compiled pattern that records the length of every text it is handed."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.lengths: list[int] = []

    def search(self, text: Any) -> Any:
        self.lengths.append(len(text))
        return self.inner.search(text)


def _recorded(pattern: Pattern) -> tuple[Pattern, Recorded, Recorded | None]:
    """A copy of `pattern` whose `re` regex (and ASCII twin) and RE2 program record."""
    by_re = Recorded(pattern.regex)
    regex = cast(re.Pattern[str], by_re)
    if pattern.linear is None:
        return dataclasses.replace(pattern, regex=regex, ascii_regex=regex), by_re, None
    linear = copy.copy(pattern.linear)
    by_re2 = linear.program = Recorded(pattern.linear.program)
    copied = dataclasses.replace(
        pattern, regex=regex, ascii_regex=regex, programs=cast(Programs, Given(linear)), index=0
    )
    return copied, by_re, by_re2


class Given:
    """Programs already built: the one given."""

    def __init__(self, linear: Any) -> None:
        self.linear = linear

    def program(self, index: int) -> Any:
        return self.linear


def _file(tmp_path: Path, *regexes: str) -> Path:
    path = tmp_path / "patterns.toml"
    entries = "".join(
        f"[[pattern]]\ncategory = \"c{i}\"\npattern = '''{regex}'''\n"
        'severity_hint = "low"\nsteps = []\n'
        for i, regex in enumerate(regexes)
    )
    path.write_text(entries, encoding="utf-8")
    return path


def _view(text: str) -> RedactedAlert:
    return RedactedAlert(
        fingerprint="f",
        source="generic",
        status=Status.FIRING,
        title="t",
        team=None,
        priority=Priority.LOW,
        severity=None,
        description=text,
        runbook_url=None,
        occurred_at=datetime(2026, 12, 6, tzinfo=UTC),
    )


#: Texts a hostile sender writes: long runs of what the loops take, with no match.
HOSTILE = ("a" * 9000, "a." * 4500, "1" * 9000, "cert" * 2250, "\u00e9" * 9000, "a " * 4500)


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:4]))
def test_operator_and_bundled_patterns_read_a_hostile_text_once(tmp_path: Path, text: str) -> None:
    """On a long run of what a loop takes, each pattern (the bundled ones and operator ones
    `re` searches in quadratic time) is handed the alert's text once, cut to MATCH_CHARS,
    to RE2, which reads it in linear time; `re` is handed none of it."""
    loaded = load_patterns(_file(tmp_path, *QUADRATIC_IN_RE)) + BUNDLED
    recorded = [_recorded(p) for p in loaded]
    assert match(tuple(r[0] for r in recorded), _view(text)) == []
    for pattern, by_re, by_re2 in recorded:
        assert by_re.lengths == [], pattern.category
        assert by_re2 is not None and by_re2.lengths == [MATCH_CHARS], pattern.category


def test_the_bundled_patterns_encode_an_alert_once() -> None:
    """The bundled patterns share one alphabet: an alert's text is turned into RE2's bytes
    once for all of them."""
    assert all(p.linear is not None for p in BUNDLED)
    assert len({id(p.linear.alphabet) for p in BUNDLED if p.linear}) == 1


@pytest.mark.parametrize(
    ("regex", "reason", "hit"),
    [
        (r"(?<![a-z])[a-z]+ failed", "a lookaround", "job failed"),
        (r"(\w)-\1 failed", "a back-reference", "x-x failed"),
        (r"(?:a++)+ failed", "a possessive repeat", "aa failed"),
        (r"(?>ab|a) failed", "an atomic group", "ab failed"),
        (r"(?m:^)job failed$", "$ beside multi-line ^ or $", "\njob failed"),
        (r"x{1001} failed", "a repeat count over 1000", "x" * 1001 + " failed"),
        # re reads the first class in the outer (Unicode) mode where it looks for a start:
        # an Arabic-Indic digit is no \D there, though it is in the group's ASCII mode.
        (r"(?a:\D)\d failed", "switching between ASCII and Unicode", "x1 failed"),
    ],
)
def test_a_pattern_re2_cannot_run_searches_the_texts_start_only(
    tmp_path: Path, regex: str, reason: str, hit: str
) -> None:
    """A pattern RE2 cannot run loads, says why in one log line, and is searched by `re` in
    the first PARTLY_SEARCHED_CHARS characters of the alert only: what it matches there it
    finds, and a text of MATCH_CHARS costs it no more."""
    with structlog.testing.capture_logs() as logs:
        [pattern] = load_patterns(_file(tmp_path, regex))
        assert pattern.linear is None  # built, and the line logged, at the first search
    [line] = [entry for entry in logs if entry["event"] == "patterns.searched_in_part"]
    assert reason in line["reason"] and "#1 (c0)" in line["where"], line
    assert line["chars"] == PARTLY_SEARCHED_CHARS
    if len(hit) < PARTLY_SEARCHED_CHARS - 4:
        assert match((pattern,), _view(f"- {hit}")) == [pattern]
    recorded, by_re, _ = _recorded(pattern)
    assert match((recorded,), _view("a" * MATCH_CHARS)) == []
    assert by_re.lengths == [PARTLY_SEARCHED_CHARS]


#: Patterns of every construct RE2 is given, each beside what `re` makes of it.
CONSTRUCTS = (
    *QUADRATIC_IN_RE,
    r"^disk",
    r"(?m)^disk full$",
    r"\Adisk",
    r"full\Z",
    r"full$",
    r"l$\n",
    r"\s$",
    r"\bkill\b",
    r"\Bill\B",
    r"(?a)\bk\w+\b",
    r"(?a)\w+ing",
    r"\s\S\s",
    r"[^a-z\s]{2}x",
    r"\d{2,}%",
    r"(?s)a.b",
    r"a.b",
    r"(?-i:Disk) full",
    r"stra(?-i:SS)e",
    r"k(?:elvin|ilo)?s+",
    r"i\w{0,3}?d",
    r"[\u0430-\u044f]+ z",
    r"[^\W\d_]{1,40}9",
    r"(?u)\w+\u017f",
)
#: What the texts are made of: the constructs' own words, and characters `re` folds or
#: classes in ways an engine of its own could read otherwise.
PIECES = (
    "disk", "full", "kill", "ing", "elvin", "strasse", "id", "errors", "failed", "cert",
    "example", "com", "py", "x", "b", "a", "9", "%", "@",
    " ", "\n", "\t", "\x1c", "\x0b", ".", "-", "_", "12",
    "\u017f", "\u212a", "\u0130", "\u0131", "\u00df", "\u1e9e", "\u0663", "\u00e9", "\u0436",
    "\u00a0", "\u2028", "\U0001f600", "\ud800",
)  # fmt: skip


def test_re2_finds_what_re_finds_on_texts_of_tricky_characters(tmp_path: Path) -> None:
    """Over thousands of texts of case-folded letters, non-ASCII digits, spaces and words,
    lone surrogates and newlines, each construct (anchors, \\b in both modes, scoped
    flags, classes, lazy and counted repeats) matches under RE2 exactly where `re` says."""
    loaded = load_patterns(_file(tmp_path, *CONSTRUCTS))
    assert all(p.linear is not None for p in loaded)
    rng = random.Random(232)
    matched = 0
    for _ in range(1500):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 14)))
        text = "".join(ch.upper() if rng.random() < 0.3 else ch for ch in text)
        for pattern in loaded:
            assert pattern.linear is not None
            found = pattern.linear.search(pattern.linear.alphabet.encode(text))
            assert found == (pattern.regex.search(text) is not None), (pattern.regex, text)
            matched += found
    assert matched > 1000


def test_re2_finds_what_re_finds_for_the_bundled_patterns_on_hostile_characters() -> None:
    """The bundled patterns' own words, glued by characters `re` folds to ASCII letters or
    counts as spaces and digits, match under RE2 exactly as under `re`."""
    words = [w for p in BUNDLED for w in re.findall(r"[A-Za-z0-9_ ]{2,}", p.regex.pattern)]
    rng = random.Random(2321)
    matched = 0
    for _ in range(1500):
        text = "".join(
            rng.choice(PIECES) + "".join(rng.choice((c, c.upper())) for c in rng.choice(words))
            for _ in range(rng.randrange(1, 6))
        )
        for pattern in BUNDLED:
            assert pattern.linear is not None
            found = pattern.linear.search(pattern.linear.alphabet.encode(text))
            assert found == (pattern.regex.search(text) is not None), (pattern.category, text)
            matched += found
    assert matched > 300


def test_patterns_too_varied_to_share_an_alphabet_each_get_their_own(tmp_path: Path) -> None:
    """Case-sensitive patterns naming every ASCII letter and digit cannot share one byte
    per kind of character: they are split among alphabets, and each still finds what `re`
    finds."""
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    regexes = (rf"(?-i:{letters})!", r"(?-i:0123456789_)\w#", r"Q\d")
    loaded = load_patterns(_file(tmp_path, *regexes))
    alphabets = [id(p.linear.alphabet) for p in loaded if p.linear]
    assert len(alphabets) == 3 and alphabets[0] != alphabets[1] == alphabets[2]
    texts = (f"{letters}!", "0123456789_\u00e9#", "0123456789__#", "q7")
    for text in (*texts, f"{letters.lower()}!", "0123456789_ #", "q"):
        found = match(loaded, _view(text))
        assert found == [p for p in loaded if p.regex.search(f"t {text}")], text
        assert (found != []) == (text in texts), text


def test_a_group_in_ascii_mode_reads_its_classes_in_ascii_mode(tmp_path: Path) -> None:
    """`(?a:\\w)` holds ASCII word characters only, as `re` compiles it (the type flag a group
    adds replaces Unicode): beside a class of accented letters it is no second loop over the
    same characters, so it loads; `re` searches with it (RE2 is not given a group switching
    modes) and finds what it finds."""
    [pattern] = load_patterns(_file(tmp_path, r"(?a:\w)+[\u00e0-\u00ff]+!"))
    assert pattern.linear is None
    for text in ("ab\u00e9!", "\u00e9\u00e9!", "\u1e9e\u00e9!", "a!"):
        assert match((pattern,), _view(text)) == ([pattern] if text == "ab\u00e9!" else [])


def test_a_text_of_many_distinct_characters_is_encoded_as_re_reads_it(tmp_path: Path) -> None:
    """Texts of thousands of distinct characters outside ASCII (more than the encoding table
    remembers) still match exactly where `re` says, and the table stays bounded."""
    [pattern] = load_patterns(_file(tmp_path, r"\b\w\s\d!"))
    assert pattern.linear is not None
    alphabet = pattern.linear.alphabet
    matched = 0
    for first in (0x4E00, 0x0600, 0x10000):
        letters = "".join(map(chr, range(first, first + 6000)))
        for end in (" \u0663!", "\u00a0\u0663!", "1!", " \u4e00 \u0663!", " \u00b2!"):
            text = letters + end
            found = pattern.linear.search(alphabet.encode(text))
            assert found == (pattern.regex.search(text) is not None), (hex(first), end)
            matched += found
        assert len(alphabet._table) <= 128 + 4096 + 1  # what `_REMEMBERED` allows
    assert matched >= 3


def test_the_re2_programs_are_built_at_the_first_match_not_as_the_file_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading a patterns file builds no RE2 program (its alphabets read tables of every code
    point, which would count against the daemon's start-up); the first match builds them all,
    once, and later matches reuse them."""
    built: list[int] = []
    real = deterministic._searched_linearly

    def counted(regexes: Any, where: str) -> Any:
        built.append(len(regexes))
        return real(regexes, where)

    monkeypatch.setattr(deterministic, "_searched_linearly", counted)
    loaded = load_patterns(_file(tmp_path, *QUADRATIC_IN_RE))
    assert built == []
    match(loaded, _view("a" * 100))
    match(loaded, _view("job x.py failed"))
    assert built == [len(QUADRATIC_IN_RE)]
    assert all(p.linear is not None for p in loaded)
