"""`BudgetTokens` says what the store last said, refilled to now, only while the store
answers: once a read or a take fails, the tokens left are unknown (the gauge is left out)
instead of the last reading refilling towards a full budget through the outage."""

from __future__ import annotations

import pytest

from triage.errors import StoreUnavailableError
from triage.metrics import Metrics
from triage.ops.gauges import MeteredBudgets
from triage.ratelimit import Budget, LocalBudgets

MINUTE = Budget("github:create:acme/ops:minute", 20, 60.0)
KEY = ("BudgetTokens", (("budget", MINUTE.name),))


class FlakyBudgets(LocalBudgets):
    """Budgets in memory whose reads (`reads_fail`) or takes (`takes_fail`) can fail as a
    store that went away does."""

    def __init__(self) -> None:
        super().__init__()
        self.reads_fail = False
        self.takes_fail = False

    async def take_token(self, budget: Budget, now_s: float, *, keep: int = 0) -> float:
        if self.takes_fail:
            raise StoreUnavailableError("store down")
        return await super().take_token(budget, now_s, keep=keep)

    async def budget_tokens(self, budget: Budget, now_s: float) -> float:
        if self.reads_fail:
            raise StoreUnavailableError("store down")
        return await super().budget_tokens(budget, now_s)


async def test_a_read_that_fails_after_a_take_leaves_the_tokens_unknown() -> None:
    """The take counts (it is not failed for the gauge's sake), the gauge is left out rather
    than showing the reading from before the take, and the next read brings it back."""
    now = [1000.0]
    inner = FlakyBudgets()
    metrics = Metrics()
    budgets = MeteredBudgets(inner, metrics, clock=lambda: now[0])
    assert await budgets.take_token(MINUTE, now[0]) == 0
    assert metrics.gauges()[KEY].value == 19
    inner.reads_fail = True
    assert await budgets.take_token(MINUTE, now[0]) == 0
    assert KEY not in metrics.gauges()
    inner.reads_fail = False
    assert await budgets.take_token(MINUTE, now[0]) == 0
    assert metrics.gauges()[KEY].value == 17


async def test_a_take_that_fails_leaves_the_tokens_unknown_through_the_outage() -> None:
    """A store that refuses the take leaves the gauge out for as long as it is down, instead
    of the last reading refilling to a full budget nobody has read."""
    now = [1000.0]
    inner = FlakyBudgets()
    metrics = Metrics()
    budgets = MeteredBudgets(inner, metrics, clock=lambda: now[0])
    for _ in range(10):
        await budgets.take_token(MINUTE, now[0])
    assert metrics.gauges()[KEY].value == 10
    inner.takes_fail = True
    with pytest.raises(StoreUnavailableError):
        await budgets.take_token(MINUTE, now[0])
    now[0] += 600
    assert KEY not in metrics.gauges()
