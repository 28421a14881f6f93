"""Hostile alert and answer text is read in linear time (task 513): each check below once
started, at every character of a long crafted run, a scan to the run's end."""

from __future__ import annotations

import pytest

from scaling import assert_linear
from triage.ingest import chunks
from triage.summarise import scripts


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
