"""The budget of log lines for what anyone can cause: `burst` lines a window, the rest summed up
once when the window ends."""

from __future__ import annotations

import asyncio
from collections import Counter

from triage.linebudget import LineBudget


def test_past_the_burst_events_are_counted_by_key_and_summed_up_once_at_the_next_window() -> None:
    """Two of five events in a window get a line, and the first of a key not yet logged one
    too; the other two are one summary, counted by key, handed over when the next window
    starts."""
    now = [0.0]
    summaries: list[Counter[str]] = []
    budget = LineBudget(2, 1.0, summaries.append, clock=lambda: now[0])
    assert [budget.admit(key) for key in "aabab"] == [True, True, True, False, False]
    assert summaries == []
    now[0] = 1.0
    assert budget.admit("a")
    assert summaries == [Counter({"a": 1, "b": 1})]
    budget.flush()  # nothing left over: no second summary
    assert len(summaries) == 1
    quiet = LineBudget(1, 1.0, clock=lambda: now[0])
    assert [quiet.admit(), quiet.admit()] == [True, False]


async def test_the_summary_comes_at_the_windows_end_without_another_event() -> None:
    """With an event loop running, the summary is written when the window ends, even if no
    event comes after the flood."""
    summaries: list[Counter[str]] = []
    budget = LineBudget(1, 0.05, summaries.append)
    assert [budget.admit("x"), budget.admit("x")] == [True, False]
    deadline = asyncio.get_running_loop().time() + 5
    while not summaries:
        assert asyncio.get_running_loop().time() < deadline, "no summary at the window's end"
        await asyncio.sleep(0.01)
    assert summaries == [Counter({"x": 1})]
