"""Whether triage's own signals can be trusted across what happens to a process: a restart
shows on /metrics (its start time, counters that start at 0), and what CloudWatch is sent holds
only dimension values it takes, whatever a dimension was given."""

from __future__ import annotations

import time
from pathlib import Path

from test_metrics_export import readme_dimensions
from test_signals_faults import promtool_check, samples
from triage.metrics import Metrics
from triage.ops.metrics_export import METRICS, UNLABELLED_COUNTERS, prometheus_name
from triage.ops.prometheus import prometheus_text


def _boot_time_s() -> float:
    """When this machine booted (epoch seconds), from the kernel's own `btime`."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise AssertionError("/proc/stat has no btime")


def test_metrics_name_the_process_start_so_a_restart_shows() -> None:
    """/metrics carries `process_start_time_seconds`, the same at every scrape and between the
    machine's boot and now, so a restart (which resets every counter) is visible to queries."""
    metrics = Metrics()
    first = samples(prometheus_text(metrics))
    second = samples(prometheus_text(metrics))
    started = first.get("process_start_time_seconds")
    assert started is not None, sorted(first)
    assert started == second["process_start_time_seconds"]
    assert _boot_time_s() - 1 <= started <= time.time()


def test_counters_without_dimensions_start_at_zero_so_the_first_event_counts() -> None:
    """Before any event, every counter without dimensions is on /metrics at 0 (so `increase()`
    sees the first event after a restart), and the page stays promtool clean."""
    text = prometheus_text(Metrics())
    got = samples(text)
    for name in sorted(UNLABELLED_COUNTERS):
        assert got.get(prometheus_name(name, "counter")) == 0, name
    promtool_check(text)


def test_the_counters_shown_at_zero_are_exactly_those_without_dimensions() -> None:
    """The set of counters shown at 0 is the README's counters with no dimension: one with
    dimensions shown bare would read as a series of its own with every label empty."""
    documented = readme_dimensions()
    bare = {
        name for name, described in METRICS.items()
        if described.kind == "counter" and not documented[name]
    }  # fmt: skip
    assert sorted(UNLABELLED_COUNTERS ^ bare) == []
