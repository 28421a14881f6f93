"""A gauge that is forgotten (cleared, or set to no reading) gives its series slot back: the
bound on series per metric counts the series a metric holds now, not every one it ever held."""

from __future__ import annotations

import math

import structlog

from triage.metrics import MAX_SERIES_PER_METRIC, Metrics


def test_a_gauge_set_to_nan_again_and_again_keeps_showing_its_value() -> None:
    """A gauge that reads NaN now and then (forgotten, then set again) is one series, however
    many cycles: its value is still shown after more than MAX_SERIES_PER_METRIC of them."""
    metrics = Metrics()
    for _ in range(MAX_SERIES_PER_METRIC + 1):
        metrics.set("BudgetTokens", 5, budget="llm")
        metrics.set("BudgetTokens", math.nan, budget="llm")
    metrics.set("BudgetTokens", 3, budget="llm")
    shown = {key: gauge.value for key, gauge in metrics.gauges().items()}
    assert shown == {("BudgetTokens", (("budget", "llm"),)): 3.0}


def test_a_cleared_gauge_makes_room_for_another_series() -> None:
    """With the metric full, clearing one of its gauges lets a new series in (no warning)."""
    metrics = Metrics()
    for i in range(MAX_SERIES_PER_METRIC):
        metrics.set("BudgetTokens", 1, budget=f"b{i}")
    metrics.clear("BudgetTokens", budget="b0")
    with structlog.testing.capture_logs() as logs:
        metrics.set("BudgetTokens", 2, budget="new")
    assert metrics.gauges()[("BudgetTokens", (("budget", "new"),))].value == 2.0
    assert logs == []


def test_clearing_a_gauge_that_is_not_held_frees_no_slot() -> None:
    """Clearing a series the metric does not hold (never set, or cleared already) gives back
    nothing: the metric stays full and a new series past the bound is still left out."""
    metrics = Metrics()
    for i in range(MAX_SERIES_PER_METRIC):
        metrics.set("BudgetTokens", 1, budget=f"b{i}")
    metrics.clear("BudgetTokens", budget="b0")
    for _ in range(3):
        metrics.clear("BudgetTokens", budget="b0")
        metrics.clear("BudgetTokens", budget="never-set")
    metrics.set("BudgetTokens", 1, budget="b0")  # takes the one slot given back
    metrics.set("BudgetTokens", 1, budget="one-too-many")
    held = [dims for name, dims in metrics.gauges() if name == "BudgetTokens"]
    assert len(held) == MAX_SERIES_PER_METRIC
    assert (("budget", "one-too-many"),) not in held


def test_a_dimensionless_gauge_past_a_full_metric_is_left_out_like_any_other() -> None:
    """A gauge without dimensions, of a metric whose dimensioned series fill the bound, is a
    new series like any other: left out, so clearing it later cannot free a slot it never
    took (the count of held series stays honest)."""
    metrics = Metrics()
    for i in range(MAX_SERIES_PER_METRIC):
        metrics.set("BudgetTokens", 1, budget=f"b{i}")
    metrics.set("BudgetTokens", 9)
    assert ("BudgetTokens", ()) not in metrics.gauges()
    metrics.clear("BudgetTokens")
    metrics.set("BudgetTokens", 1, budget="one-too-many")
    held = [dims for name, dims in metrics.gauges() if name == "BudgetTokens"]
    assert () not in held
    assert (("budget", "one-too-many"),) not in held
    assert len(held) == MAX_SERIES_PER_METRIC
