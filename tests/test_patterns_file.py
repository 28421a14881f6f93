"""TRIAGE_PATTERNS_FILE's shape: every key of the file and of each [[pattern]] entry is one
the summariser reads, of the type it reads, else one ConfigError line naming the entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.errors import ConfigError
from triage.summarise.deterministic import load_patterns

ENTRY = 'category = "x"\npattern = "disk"\nseverity_hint = "high"\nsteps = ["s"]\n'


def _error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "patterns.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_patterns(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"TRIAGE_PATTERNS_FILE {path}"), message
    return message.removeprefix(f"TRIAGE_PATTERNS_FILE {path}")


def test_an_unknown_key_is_named_with_the_key_it_was_a_typo_of(tmp_path: Path) -> None:
    """`stpes` beside `steps` in the second entry: the entry, the key and the key it was
    meant to be."""
    message = _error(tmp_path, f"[[pattern]]\n{ENTRY}\n[[pattern]]\n{ENTRY}stpes = ['t']\n")
    assert message == ": [[pattern]] #2 (x): unknown key 'stpes'; did you mean 'steps'?"


def test_an_unknown_key_like_no_known_one_lists_the_known_keys(tmp_path: Path) -> None:
    """A key of another tool's format: the error lists the four keys an entry has."""
    message = _error(tmp_path, f"[[pattern]]\n{ENTRY}owner = 'sre'\n")
    assert message == (
        ": [[pattern]] #1 (x): unknown key 'owner'; known: category, pattern, severity_hint, steps"
    )


def test_a_table_beside_the_patterns_is_refused(tmp_path: Path) -> None:
    """A `[[patern]]` entry beside `[[pattern]]` ones would be dropped in silence: it is
    named, with the table it was meant to be."""
    message = _error(tmp_path, f"[[pattern]]\n{ENTRY}\n[[patern]]\n{ENTRY}")
    assert message == ": unknown key 'patern'; did you mean 'pattern'?"


@pytest.mark.parametrize("category", ["5", "['a']", "''", '"a\\u0007b"'])
def test_a_category_that_is_no_name_is_refused(tmp_path: Path, category: str) -> None:
    """A category that is no string, empty, or holding control characters (it is shown in
    tickets and matched by routes) is refused, naming the entry."""
    entry = ENTRY.replace('category = "x"', f"category = {category}")
    message = _error(tmp_path, f"[[pattern]]\n{entry}")
    assert message.startswith(": [[pattern]] #1: category must be "), message


def test_an_unknown_key_is_shown_escaped_and_cut(tmp_path: Path) -> None:
    """A key holding a newline or running long is shown escaped and cut, on one line."""
    message = _error(tmp_path, f'[[pattern]]\n{ENTRY}"a\\nb{"c" * 200}" = 1\n')
    assert "'a\\nb" in message and len(message) < 200, message


def _entry(regex: str) -> str:
    """One [[pattern]] entry matching `regex` (a TOML literal string: no escapes)."""
    entry = ENTRY.replace('pattern = "disk"', f"pattern = '{regex}'")
    return f"[[pattern]]\n{entry}"


@pytest.mark.parametrize(
    "regex",
    [
        r"(a*)*",
        r"(.*a){20}",
        r"(a{1,2}){30}",
        r"(.?){300}",
        r"(ab?|b)*c",
        r"(aa|a)*b",
        r"(?:\w+[-.]?)+@",
    ],
)
def test_every_repeat_that_can_split_text_many_ways_is_refused(tmp_path: Path, regex: str) -> None:
    """Siblings of (a+)+: a repeat of a variable repeat, of a large counted one, or of an
    alternation whose branches start alike, are refused naming the entry and why."""
    message = _error(tmp_path, _entry(regex))
    assert message.startswith(": [[pattern]] #1 (x): a repeat of something"), message
    assert "exponential" in message


@pytest.mark.parametrize(
    "regex",
    [
        r"(\d{1,3}\.){3}\d{1,3}",
        r"(?:a|b)*c",
        r"(?:ab|cd)+",
        r"(?:x|\w)+y",
        r"(?:a++)+",
        r"(ab|a)*c",
        r"((a|ab)c?)+",
    ],
)
def test_a_repeat_with_one_way_to_match_is_taken(tmp_path: Path, regex: str) -> None:
    """Repeats that split a text one way (or a few: a dotted quad) are no backtracking risk
    and load."""
    path = tmp_path / "patterns.toml"
    path.write_text(_entry(regex))
    assert [p.regex.pattern for p in load_patterns(path)] == [regex]


@pytest.mark.parametrize("depth", [900, 3_000])
def test_a_regex_nested_too_deeply_is_one_line(tmp_path: Path, depth: int) -> None:
    """Groups nested past the stack of Python's regex parser: one line naming the entry,
    not a RecursionError traceback."""
    message = _error(tmp_path, _entry("(?:" * depth + "a" + ")" * depth))
    assert message == ": [[pattern]] #1 (x): pattern is nested too deeply", message


@pytest.mark.parametrize(
    "regex", [r"\w+\w+!", r"\d+\.?\d*x", r"[a-z]+x[a-z]*!", r"\w+\s*\w+!", r"(?:id=\d+\d+)"]
)
def test_side_by_side_repeats_of_one_class_are_refused(tmp_path: Path, regex: str) -> None:
    """Two unbounded repeats that can take the same characters, with nothing between them
    that only the second can take (`\\w+\\w+`, `\\d+\\.?\\d*`), split the text a
    quadratic number of ways at each place a search starts: refused naming the entry."""
    message = _error(tmp_path, _entry(regex))
    assert message.startswith(": [[pattern]] #1 (x): two repeats side by side"), message


@pytest.mark.parametrize(
    "regex", [r"\w+\s\w+", r"\d+%", r"\b\w+(Error|Exception)\b", r"cpu_usage\w*", r"a+b+"]
)
def test_side_by_side_repeats_a_character_apart_are_taken(tmp_path: Path, regex: str) -> None:
    """Repeats kept apart by a character only one of them takes split a text one way: they
    load."""
    path = tmp_path / "patterns.toml"
    path.write_text(_entry(regex))
    assert [p.regex.pattern for p in load_patterns(path)] == [regex]


@pytest.mark.parametrize("regex", ["", "(oom)?", "x*", ".{0,80}", "(?:disk|)"])
def test_a_pattern_matching_empty_text_is_refused(tmp_path: Path, regex: str) -> None:
    """A regex that matches empty text matches every alert (each would get its category and
    steps): refused naming the entry."""
    message = _error(tmp_path, _entry(regex))
    assert message == ": [[pattern]] #1 (x): pattern matches any text (it matches empty text)"


@pytest.mark.parametrize("value", ['["disk"]', "5", "{ a = 1 }"])
def test_a_pattern_that_is_no_string_is_refused(tmp_path: Path, value: str) -> None:
    """A regex given as an array, a number or a table is refused as no string, not with
    Python's words for it (`unhashable type: 'list'`)."""
    entry = ENTRY.replace('pattern = "disk"', f"pattern = {value}")
    message = _error(tmp_path, f"[[pattern]]\n{entry}")
    assert message == ": [[pattern]] #1 (x): pattern must be a string (a regular expression)"


def test_a_repeat_count_past_the_engine_is_no_regular_expression(tmp_path: Path) -> None:
    """`a{4294967296}` (re raises OverflowError, not its own error) is one line naming the
    entry, not a traceback."""
    message = _error(tmp_path, _entry("a{4294967296}"))
    assert message == (
        ": [[pattern]] #1 (x): pattern is no regular expression: the repetition number is too large"
    )


def test_the_bundled_patterns_are_read_once_per_process(tmp_path: Path) -> None:
    """The bundled file is read and checked once (every summariser built with no file shares
    its patterns); a file given by path is read each time it is asked for."""
    assert load_patterns() is load_patterns()
    path = tmp_path / "patterns.toml"
    path.write_text(
        '[[pattern]]\ncategory = "x"\npattern = "boom"\nseverity_hint = "low"\nsteps = ["look"]\n'
    )
    first = load_patterns(path)
    assert first == load_patterns(path) and first is not load_patterns(path)


@pytest.mark.parametrize(
    ("steps", "said"),
    [
        ('["  "]', ": [[pattern]] #1 (x): step 1 is blank"),
        ('["look", ""]', ": [[pattern]] #1 (x): step 2 is blank"),
        ('["Check the disk", "check  the DISK"]', ": [[pattern]] #1 (x): step 2 repeats step 1"),
    ],
    ids=["blank", "empty", "repeated"],
)
def test_a_step_no_one_can_act_on_is_refused(tmp_path: Path, steps: str, said: str) -> None:
    """A blank step (an empty bullet in every ticket) or one listed twice (whitespace and
    case aside) is refused naming the entry and the step."""
    entry = f'category = "x"\npattern = "disk"\nseverity_hint = "high"\nsteps = {steps}\n'
    assert _error(tmp_path, f"[[pattern]]\n{entry}") == said


def test_an_entry_of_a_category_and_a_severity_alone_loads(tmp_path: Path) -> None:
    """No steps at all is an entry that only names a category and a severity: it loads."""
    path = tmp_path / "patterns.toml"
    path.write_text(
        '[[pattern]]\ncategory = "x"\npattern = "disk"\nseverity_hint = "high"\nsteps = []\n'
    )
    assert load_patterns(path)[0].steps == ()


def test_a_regex_two_entries_share_is_refused(tmp_path: Path) -> None:
    """Two entries of one regex (the second always matches with the first) are refused,
    naming both; the same words under other flags are two patterns."""
    second = ENTRY.replace('"x"', '"y"')
    message = _error(tmp_path, f"[[pattern]]\n{ENTRY}\n[[pattern]]\n{second}")
    assert message == (
        ": [[pattern]] #2 (y): the same pattern as #1; merge their steps into one entry"
    )
    path = tmp_path / "other.toml"
    path.write_text(f"[[pattern]]\n{ENTRY}\n[[pattern]]\n{second.replace('disk', '(?s)disk')}")
    assert len(load_patterns(path)) == 2
