"""Many tiny cases as a few test items: every case still runs, and a failure names each
failing case with what it gave and what was expected.

Each test item costs pytest and xdist ~1.5 ms of CPU of its own (collected in every worker,
set up, reported to the controller), more than a one-line check of a redaction rule does:
hundreds of such cases cost more as items than as work. `dealt(cases, parts)` parametrizes a
test with `parts` chunks (case i in chunk i % parts, so a SPLIT file's parts stay even), and
`assert_each` runs the check over a chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pytest

Case = TypeVar("Case")


def dealt(cases: Sequence[Any], parts: int) -> list[Any]:
    """`cases` dealt into `parts` parameters (ids `1-of-N`, ...), each a list of cases."""
    parts = max(1, min(parts, len(cases)))
    return [pytest.param(list(cases[k::parts]), id=f"{k + 1}-of-{parts}") for k in range(parts)]


def assert_each(
    cases: Sequence[Case], check: Callable[[Case], tuple[Any, Any]], name: str = "case"
) -> None:
    """Fails naming every case whose `check(case)` gives (got, expected) that differ, or
    raises: each one's case, what it gave and what was expected, not only the first."""
    assert cases, "no cases to check"
    failed = []
    for case in cases:
        try:
            got, expected = check(case)
        except Exception as error:  # one case's error is reported with the rest
            failed.append(f"{name} {case!r}\n  raised {error!r}")
            continue
        if got != expected:
            failed.append(f"{name} {case!r}\n  gave     {got!r}\n  expected {expected!r}")
    assert not failed, f"{len(failed)} of {len(cases)} failed:\n" + "\n".join(failed)
