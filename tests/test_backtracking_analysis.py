"""The patterns file's backtracking check reads the parsed regex: it refuses a repeat whose
iterations can split one text in two ways (each such refusal is a regex Python's `re` takes
exponential or high-polynomial time on, shown by growing inputs), and takes repeats kept apart
by a character the repeated part cannot hold, whatever the characters."""

from __future__ import annotations

import re
import tomllib
from importlib import resources

import pytest

from triage.summarise.backtracking import backtracking

#: Known-evil regexes: nested repeats, alternations and adjacent repeats whose characters
#: overlap under a repeat, repeats of what can match empty text, and OWASP's ReDoS list.
EVIL = [
    r"(a+)+$",
    r"(a|a)*$",
    r"(a|aa)*b",
    r"(ab?|b)*c",
    r"(\w+\s?)+$",
    r"(.*a){12}",
    r"^(\d+)*$",
    r"(x+x+)+y",
    r"(a*)*",
    r"(a?)+$",
    r"(?:.?){30}!",
    r"(a{1,2}){30}",
    # A bounded repeat of 64 ways to split its text: each way rescans the loop after it.
    r"(?:\w{0,3}){0,3}a+?(?:ba|a)$",
    r"(?:\w+[-.]?)+@",
    r"(?:a+){2}$",
    # OWASP's list: e-mail validation, a Java class name, and the classic forms.
    r"^([a-zA-Z0-9])(([\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}"
    r"(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$",
    r"^(([a-z])+.)+[A-Z]([a-z])+$",
    r"^([a-zA-Z0-9]+\s?)*$",
    # Overlaps outside Latin letters and digits, which sampled characters did not reach.
    r"(?:[^\x00-\u4e00]|\w)+$",
    r"(?:[\u4e01-\u4e09]+\u4e05)+$",
    r"(?:\w|\u0660\u0660)+$",
    # A backreference can match anything, so it overlaps whatever it repeats beside.
    r"(a)(?:\1|a)+$",
]

#: Safe regexes: each repeat's iterations split any text in one way (the next character
#: decides), or in a few ways a small count bounds.
SAFE = [
    r"([a-z0-9-]+\.)+example\.com",
    r"(?:[a-z0-9-]+\.)+[a-z]{2,}",
    r"(a|ab)*c",
    r"(ab|a)*c",
    r"((a|ab)c?)+",
    r"(?:x|\w)+y",
    r"(?:a++)+",
    r"(?>a+)b",
    r"(\d{1,3}\.){3}\d{1,3}",
    r"(?:\d{1,3}){2}",
    r"(?:a{1,2}){4}",
    r"(?:a|b)*c",
    r"(?:ab|cd)+",
    r"(?:[a-f0-9]{2})+",
    r"\w+\s\w+",
    r"(?:\w+\s)+\w+!",
    r"(?:\w+,\s*)+\w+",
    r"\b\w+(Error|Exception)\b",
    r"[\w\s]{0,80}",
    r"(?:key=[^&]+&)+",
]


@pytest.mark.parametrize("regex", EVIL)
def test_a_regex_that_backtracks_for_long_is_refused(regex: str) -> None:
    """Each known-evil regex (as the patterns file compiles it, ignoring case) is refused with
    a reason: the analysis finds its ambiguous repeat whatever characters it is made of."""
    assert backtracking(regex, re.IGNORECASE) is not None, regex


@pytest.mark.parametrize("regex", SAFE)
def test_a_repeat_split_one_way_is_taken(regex: str) -> None:
    """Repeats kept apart by a character the repeated part cannot hold (the dot of a host
    name), or whose alternatives the next character tells apart (`(a|ab)*c`, linear in `re`),
    are taken: the old check refused the first and sibling safe patterns."""
    assert backtracking(regex, re.IGNORECASE) is None, regex


def test_every_shipped_pattern_passes() -> None:
    """The bundled patterns.toml loads under the check: none of its regexes is refused."""
    text = resources.files("triage.summarise").joinpath("patterns.toml").read_text("utf-8")
    patterns = [entry["pattern"] for entry in tomllib.loads(text)["pattern"]]
    assert patterns
    assert {p: backtracking(p, re.IGNORECASE) for p in patterns} == dict.fromkeys(patterns)


@pytest.mark.parametrize(
    ("regex", "flags"),
    [
        (r"(?:kk|\u212a)+$", re.IGNORECASE),  # the Kelvin sign is a K in any case
        (r"(?i:kk|\u212a)+$", 0),
        (r"(?:ss|\u017f)+$", re.IGNORECASE),  # the long s is an s in any case
        (r"(?s:.|\n)+y", 0),  # with DOTALL, scoped: "." takes a newline too
    ],
)
def test_letters_equal_in_any_case_overlap(regex: str, flags: int) -> None:
    """Under IGNORECASE (global or scoped), two branches that match one letter in different
    case forms are alike, as "." and a newline are under a scoped DOTALL: refused, as `re`
    tries both for every such character."""
    assert backtracking(regex, flags) is not None


@pytest.mark.parametrize(
    ("regex", "flags"),
    [
        (r"(?:kk|\u212a)+$", 0),
        (r"(?:\w|\u0660\u0660)+$", re.ASCII),
        (r"(?:.|\n)+y", 0),  # without DOTALL, "." takes no newline
    ],
)
def test_letters_that_differ_without_ignorecase_are_apart(regex: str, flags: int) -> None:
    """Without IGNORECASE, k and the Kelvin sign are different characters, with ASCII \\w
    holds no Arabic-Indic digit, and without DOTALL "." no newline: the branches are told
    apart by the character, and taken."""
    assert backtracking(regex, flags) is None


@pytest.mark.parametrize(
    "regex",
    [
        r"(?:ab)+[ab]{2,}!",  # a group's loop, then a class's
        r"[ab]+?(?:\w+?|b)$",  # the second loop inside an alternation
        r"\d+(?:\.\d+)?\d*x",  # apart only by an optional part
        r"(?=\w+\w+!)x",  # inside a lookahead, which is searched on its own
        r"(?:[a-f]+-)?[a-f]+\w+$",
    ],
)
def test_loops_in_series_that_read_one_text_are_refused(regex: str) -> None:
    """Two unbounded loops one after the other that can read one text (whatever each is
    made of: a group, a class, an alternative) split it a quadratic number of ways wherever
    a search starts: refused as side by side, where only two single classes were caught."""
    reason = backtracking(regex, re.IGNORECASE)
    assert reason is not None and reason.startswith("two repeats side by side"), reason


def test_side_by_side_repeats_overlapping_outside_latin_are_refused() -> None:
    """Two unbounded repeats side by side whose classes share only CJK characters still split
    a text a quadratic number of ways: refused as side by side."""
    reason = backtracking(r"[^\x00-\u4e00]+\w+!")
    assert reason is not None and reason.startswith("two repeats side by side")


def test_a_repeat_too_large_to_check_is_refused_saying_so() -> None:
    """A repeated body of 20,000 characters is past what the check follows: refused with a
    reason saying so, not taken unchecked (nor checked for minutes)."""
    reason = backtracking("(?:" + "ab" * 10_000 + ")+")
    assert reason is not None and reason.startswith("a repeat too large to check"), reason


def test_a_long_alternation_of_words_under_a_repeat_is_taken() -> None:
    """Three hundred distinct words as alternatives of one repeat, each ended by a comma the
    words cannot hold, split a text one way: taken (the check follows words, not pairs of
    every state)."""
    words = [f"w{i:03d}x" for i in range(300)]
    assert backtracking(f"(?:(?:{'|'.join(words)}),)+", re.IGNORECASE) is None
