"""tests/case_chunks.py: chunked cases drop none, and a chunk's failure names every failing case."""

from __future__ import annotations

import pytest

from case_chunks import assert_each, dealt


@pytest.mark.parametrize("count", [1, 2, 3, 7, 100])
def test_every_case_is_in_exactly_one_chunk(count: int) -> None:
    """However many cases and chunks, each case is in one chunk once, and no chunk is empty."""
    cases = [f"case-{i}" for i in range(count)]
    chunks = [param.values[0] for param in dealt(cases, 3)]
    assert sorted(case for chunk in chunks for case in chunk) == sorted(cases)
    assert all(chunks)
    assert len(chunks) == min(3, count)


def test_a_failure_names_every_failing_case_and_what_it_gave() -> None:
    """Two wrong answers and an error among five cases: the message names all three."""

    def check(n: int) -> tuple[int, int]:
        if n == 4:
            raise ValueError("four")
        return (n * 10 if n in (1, 3) else n, n)

    with pytest.raises(AssertionError) as failure:
        assert_each([0, 1, 2, 3, 4], check, name="n")
    message = str(failure.value)
    assert "3 of 5 failed" in message
    assert "n 1\n  gave     10\n  expected 1" in message
    assert "n 3\n  gave     30\n  expected 3" in message
    assert "n 4\n  raised ValueError('four')" in message
    assert "n 0" not in message and "n 2" not in message


def test_no_cases_is_a_failure() -> None:
    """A chunk with nothing in it proves nothing, so it fails."""
    with pytest.raises(AssertionError, match="no cases"):
        assert_each([], lambda case: (case, case))
