"""A creation budget whose record was written by a clock that has since been stepped back: it
gives tokens again within a refill interval, not once the clock has caught up with the record.
Run on the arithmetic (`Budget`), a process's own budgets and the store's shared ones."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from memory_store import MemoryStore
from triage.ratelimit import Budget, Budgets, LocalBudgets

#: Two creations a minute (GitHub's secondary limit, as the sink spends it).
MINUTE = Budget("github:create:acme/ops:minute", 2, 60.0)
#: When the budget was spent, in epoch seconds.
SPENT_AT_S = 1_800_000_000.0

BUDGETS = [pytest.param(MemoryStore, id="store"), pytest.param(LocalBudgets, id="local")]


async def spend(budgets: Budgets, at_s: float) -> None:
    """Take every token of MINUTE at `at_s`, and see the next one refused."""
    for _ in range(MINUTE.capacity):
        assert await budgets.take_token(MINUTE, at_s) == 0.0
    assert await budgets.take_token(MINUTE, at_s) > 0


def test_a_record_dated_a_period_or_more_ahead_reads_as_a_full_budget() -> None:
    """Tokens written by a clock at least a period ahead of this one say nothing of now: the
    budget is full, as an unknown one is."""
    assert MINUTE.tokens((0.0, SPENT_AT_S), SPENT_AT_S - 3600) == MINUTE.capacity
    assert MINUTE.settled((0.0, SPENT_AT_S), SPENT_AT_S - 61) == (2.0, SPENT_AT_S - 61)


def test_a_record_dated_slightly_ahead_keeps_its_tokens_refilled_from_now() -> None:
    """Tokens written by a clock a little ahead (replicas that disagree by seconds) stand as
    written, never refilled for time that has not passed, and refill from now on."""
    assert MINUTE.settled((0.5, SPENT_AT_S), SPENT_AT_S - 10) == (0.5, SPENT_AT_S - 10)
    assert MINUTE.tokens((0.5, SPENT_AT_S), SPENT_AT_S - 10) == 0.5


def test_a_record_dated_in_the_past_refills_for_the_time_since() -> None:
    """The ordinary case stays as it was: tokens refill at capacity per period since the
    record's time, at most to capacity."""
    assert MINUTE.settled((0.0, SPENT_AT_S), SPENT_AT_S + 15) == (0.5, SPENT_AT_S + 15)
    assert MINUTE.tokens((0.0, SPENT_AT_S), SPENT_AT_S + 600) == MINUTE.capacity


@pytest.mark.parametrize("budgets", BUDGETS)
async def test_a_budget_spent_before_a_step_back_of_an_hour_gives_tokens_again(
    budgets: Callable[[], Budgets],
) -> None:
    """Spent, then the clock stepped back an hour: a create two minutes later gets a token,
    not a wait until the clock is back where the budget was written."""
    shared = budgets()
    await spend(shared, SPENT_AT_S)
    assert await shared.take_token(MINUTE, SPENT_AT_S - 3600 + 120) == 0.0


@pytest.mark.parametrize("budgets", BUDGETS)
async def test_a_refused_take_after_a_small_step_back_refills_from_now(
    budgets: Callable[[], Budgets],
) -> None:
    """Spent, then the clock stepped back 20 s (less than a period): refused at once, but the
    refusal dates the budget now, so one refill interval later (30 s) a token is free, not 20 s
    after that."""
    budgets = budgets()
    await spend(budgets, SPENT_AT_S)
    back_s = SPENT_AT_S - 20
    assert await budgets.take_token(MINUTE, back_s) == pytest.approx(30.0)
    assert await budgets.take_token(MINUTE, back_s + 30) == 0.0


@pytest.mark.parametrize("budgets", BUDGETS)
async def test_a_spent_budget_on_a_steady_clock_still_refuses(
    budgets: Callable[[], Budgets],
) -> None:
    """No step: a budget spent a second ago refuses, and says when a token is free."""
    shared = budgets()
    await spend(shared, SPENT_AT_S)
    assert await shared.take_token(MINUTE, SPENT_AT_S + 1) == pytest.approx(29.0)
