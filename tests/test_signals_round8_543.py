"""Triage's own signals, round 8 (helper 543): under a flood of one problem, the line budget
still gives another problem its first line, and a budget nobody gave a summary still says how
many lines it dropped."""

from __future__ import annotations

from collections import Counter

import structlog

from triage.ingest.lines import RefusalLines
from triage.linebudget import FIRST_LINES, LineBudget


def test_a_flood_of_one_problem_leaves_another_its_first_line() -> None:
    """Past the burst, spent by a flood of one key, the first event of another key in the same
    window gets its own line (with its detail); its repeats are counted in the summary. A
    flood of wrong tokens hid the first `413 too_large` of a real sender behind a count."""
    now = [0.0]
    summaries: list[Counter[str]] = []
    budget = LineBudget(3, 1.0, summaries.append, clock=lambda: now[0])
    flood = [budget.admit("401 bad_token") for _ in range(50)]
    assert flood.count(True) == 3
    assert budget.admit("413 too_large")
    assert not budget.admit("413 too_large")
    now[0] = 1.0
    budget.admit("401 bad_token")
    assert summaries == [Counter({"401 bad_token": 47, "413 too_large": 1})]


def test_endless_distinct_keys_still_get_a_bounded_number_of_lines() -> None:
    """A key never seen gets its first line only FIRST_LINES times a window past the burst:
    distinct keys cannot undo the budget."""
    budget = LineBudget(2, 1.0, lambda _counts: None, clock=lambda: 0.0)
    lines = [budget.admit(f"key-{n}") for n in range(1_000)]
    assert lines.count(True) == 2 + FIRST_LINES


def test_the_gateways_refusal_lines_name_a_rare_refusal_in_a_flood() -> None:
    """The gateway's `ingest.refused` lines: a flood of one refusal past the burst, then one
    refusal of another kind, which is logged with its own line."""
    refusals = RefusalLines(burst=5, clock=lambda: 0.0)
    with structlog.testing.capture_logs() as logs:
        for _ in range(100):
            refusals.refused(401, "bad_token", source="grafana")
        refusals.refused(413, "too_large", source="grafana")
    lines = [(e["status"], e["reason"]) for e in logs if e["event"] == "ingest.refused"]
    assert lines.count((401, "bad_token")) == 5
    assert (413, "too_large") in lines


def test_a_budget_without_a_summary_says_how_many_lines_it_dropped() -> None:
    """A budget made without a summary (the ingest server's `client_not_reading`,
    `head_timeout` and connection error lines) says at the window's end how many lines it
    dropped, under its name: they were dropped without a word, so a flood looked like ten."""
    now = [0.0]
    budget = LineBudget(2, 1.0, clock=lambda: now[0], name="ingest.client_not_reading")
    with structlog.testing.capture_logs() as logs:
        assert [budget.admit() for _ in range(10)].count(True) == 2
        now[0] = 1.0
        budget.admit()
    (line,) = logs
    assert line["event"] == "log.lines_dropped"
    assert line["lines"] == "ingest.client_not_reading"
    assert line["dropped"] == 8
    assert line["log_level"] == "warning"
