"""Hostile alert and answer text is read in linear time (task 513): each check below once
started, at every character of a long crafted run, a scan to the run's end."""

from __future__ import annotations

import itertools

import pytest

from scaling import assert_linear
from triage.ingest import chunks
from triage.redact import Redactor
from triage.summarise import claims, grounding, openai_chat, scripts


def test_a_long_run_without_a_digit_names_no_fact_in_linear_time() -> None:
    """`names_a_fact` reads a 4,000-character description of letters (or letters and slashes)
    in linear time: its token pattern tried, at each letter, a digit to the run's end."""
    for unit in ("a", "a/"):

        def work(n: int, unit: str = unit) -> object:
            return scripts.names_a_fact(unit * n, "alert text")

        assert_linear(work, 1000)


def test_fact_tokens_are_found_as_before() -> None:
    """The tokens a description names are those the unanchored pattern found: a run holding
    a digit is one token, words joined by a dot, hyphen or underscore another."""
    field = "web-1 at 12% on db.internal, a_b, /var/log/x9 and plain words -x- 5xx."
    assert scripts._FACT_TOKEN.findall(field) == [
        "web-1",
        "12%",
        "db.internal",
        "a_b",
        "/var/log/x9",
        "5xx.",
    ]
    assert scripts.names_a_fact(field, "db.internal is slow")


def test_a_chunk_size_line_without_its_end_is_read_in_linear_time() -> None:
    """A read of hex digits with no LF (a chunk-size line not yet ended) is refused in linear
    time: the size line's pattern tried every split of the digits and the rest of the line
    (64 KiB of 'a' in one read took 1.4 s of the gateway's event loop)."""

    def work(n: int) -> object:
        with pytest.raises(chunks.ChunkSizeTooLong):
            chunks.ChunkSizes().check(b"a" * n)
        return None

    assert_linear(work, 2000)


def test_a_whole_chunk_size_line_is_read_as_before() -> None:
    """A size line with extensions, whole in one read, still gives the chunk its size: the data
    after it is skipped and the last chunk's empty trailer section ends the body."""
    sizes = chunks.ChunkSizes()
    sizes.check(b"00a;name=value\r\n" + b"x" * 10 + b"\r\n0\r\n\r\n")
    assert sizes.done
    with pytest.raises(chunks.ChunkSizeTooLong):
        chunks.ChunkSizes().check(b"000000001;x\r\n")


def test_a_long_word_in_a_text_holding_an_ellipsis_is_redacted_in_linear_time() -> None:
    """The redactor reads a long run of letters, in a text that holds a '…' elsewhere, in
    linear time: the cut-fragment rule tried each letter as the start of a fragment."""

    calls = itertools.count()

    def work(n: int) -> object:
        # A new text each call: the redactor remembers the texts it has read.
        return Redactor().text(f"{next(calls)} …" + "a" * n)

    work(10)  # the rules' first use (compiling, loading) would count as the small text's time
    assert_linear(work, 2000)


def test_a_cut_fragment_is_still_redacted() -> None:
    """A random-looking word cut by a '…' is replaced, a plain word kept, and a fragment glued
    to the word before it is one fragment (the rule still starts at the run's start)."""
    assert Redactor().text("key ab12CD34ef56… and more") == "key [REDACTED:cut]… and more"
    assert Redactor().text("see Kubernetes… docs") == "see Kubernetes… docs"


@pytest.mark.parametrize("unit", ["@a ", "`@a "])
def test_many_mentions_on_one_line_are_checked_in_linear_time(unit: str) -> None:
    """An answer of many @mentions on one line is checked in linear time: each mention
    counted the code fences from the text's start and looked for its line's start and end."""
    shown = grounding.Evidence("the alert")

    def work(n: int) -> object:
        return claims.check(unit * n, shown, firing=True)

    assert_linear(work, 2000)


def test_a_mention_in_code_is_still_left_alone() -> None:
    """A mention inside a fenced block or backticks on its line, or an npm scope, stays; one
    in prose after a closed fence is marked."""
    shown = grounding.Evidence("the alert")
    kept = "```\n@here\n```\nrun `npm i @types/node` or `x @dev y`"
    assert claims.check(kept, shown, firing=True).text == kept
    marked = claims.check("```\nx\n``` then ping @oncall-team now", shown, firing=True).text
    assert "@oncall-team" not in marked


def test_a_rate_limit_reset_of_many_digits_is_read_in_linear_time() -> None:
    """A reset header of thousands of digits and no unit is refused in linear time: the unit
    pattern, searched at every digit, read the run to its end each time (16,000 digits, what
    one response head holds, took 4.5 s)."""

    def work(n: int) -> object:
        return openai_chat._duration_s("1" * n)

    assert_linear(work, 1000)


def test_durations_read_as_before() -> None:
    """Go-style durations still read to their seconds, and anything else to None."""
    assert openai_chat._duration_s("1h2m3.5s") == 3723.5
    assert openai_chat._duration_s(" 20ms ") == 0.02
    assert openai_chat._duration_s("6m0s") == 360.0
    for wrong in ("", "5", "1.5.5s", "s5s", "1m x", "1x"):
        assert openai_chat._duration_s(wrong) is None
