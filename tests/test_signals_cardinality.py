"""However many distinct dimension values the code passes (a reason or a name built from text
that is not the operator's), one metric holds a bounded number of series in this process:
past the bound, new values are counted under `other`, losing no count, with one warning."""

from __future__ import annotations

import structlog

from triage.metrics import MAX_SERIES_PER_METRIC, OTHER, Metrics
from triage.ops.prometheus import prometheus_text


def test_a_metric_fed_endless_values_keeps_a_bounded_number_of_series() -> None:
    """1,500 distinct reasons past a bound of MAX_SERIES_PER_METRIC: at most the bound plus
    one `other` series, every increment counted, one warning."""
    metrics = Metrics()
    n = MAX_SERIES_PER_METRIC + 500
    with structlog.testing.capture_logs() as logs:
        for i in range(n):
            metrics.incr("MessagesFailed", reason=f"r{i}")
    series = [dims for name, dims in metrics.counters() if name == "MessagesFailed"]
    assert len(series) == MAX_SERIES_PER_METRIC + 1
    assert (("reason", OTHER),) in series
    assert metrics.total("MessagesFailed") == n
    assert [e["event"] for e in logs] == ["metrics.too_many_series"]
    assert prometheus_text(metrics).count("triage_messages_failed_total{") == len(series)


def test_timings_and_gauges_are_bounded_too() -> None:
    """Timings with endless dimension values fold into `other` too; a gauge past the bound is
    left out (one `other` gauge would show whichever value came last)."""
    metrics = Metrics()
    for i in range(MAX_SERIES_PER_METRIC + 50):
        metrics.observe("SinkLatency", 5.0, sink=f"s{i}")
        metrics.set("BudgetTokens", 1.0, budget=f"b{i}")
    timings = [k for k in metrics.timings() if k[0] == "SinkLatency"]
    gauges = [k for k in metrics.gauges() if k[0] == "BudgetTokens"]
    assert len(timings) == MAX_SERIES_PER_METRIC + 1
    assert len(gauges) == MAX_SERIES_PER_METRIC
    assert ("BudgetTokens", (("budget", OTHER),)) not in metrics.gauges()
    assert sum(t.count for t in metrics.timings().values()) == MAX_SERIES_PER_METRIC + 50


def test_series_already_seen_keep_counting_under_their_own_values() -> None:
    """A value seen before the bound was reached keeps its own series after it."""
    metrics = Metrics()
    metrics.incr("MessagesFailed", reason="store_unavailable")
    for i in range(MAX_SERIES_PER_METRIC + 5):
        metrics.incr("MessagesFailed", reason=f"r{i}")
    metrics.incr("MessagesFailed", reason="store_unavailable")
    assert metrics.counter("MessagesFailed", reason="store_unavailable") == 2
