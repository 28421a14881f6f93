"""Red team round 3c: GitHub's `SinkLatency` holds the time of effects that went to GitHub,
as the README's row says ("the requests of one ticket effect to a sink's service"): an effect
the sink skips before any request (`SinkCalls{outcome="skipped"}`) is no latency, as it is
none for the backend sink."""

from __future__ import annotations

from github_stub import GitHubServer
from test_github_sink import FakeClock, effect, github, mono, open_sink, wall
from triage.metrics import Metrics
from triage.models import EffectKind

__all__ = ["github", "mono", "wall"]  # fixtures of test_github_sink, used here by name


def latency_count(metrics: Metrics) -> int:
    timing = metrics.timings().get(("SinkLatency", (("sink", "github"),)))
    return 0 if timing is None else timing.count


async def test_an_open_that_went_to_github_is_one_latency(
    github: GitHubServer, mono: FakeClock, wall: FakeClock
) -> None:
    """Guard: an open that reached GitHub is one SinkLatency observation."""
    metrics = Metrics()
    async with open_sink(github, mono, wall, metrics=metrics) as sink:
        await sink.apply(effect())
    assert github.calls
    assert latency_count(metrics) == 1


async def test_an_update_skipped_without_a_request_is_no_latency(
    github: GitHubServer, mono: FakeClock, wall: FakeClock
) -> None:
    """An update of an incident with no issue reference sends GitHub nothing and is counted
    `skipped`: it adds no SinkLatency observation."""
    metrics = Metrics()
    async with open_sink(github, mono, wall, metrics=metrics) as sink:
        sent = len(github.calls)
        await sink.apply(effect(EffectKind.UPDATE, None, "fp:2"))
        assert len(github.calls) == sent  # nothing went to GitHub
    assert metrics.counter("SinkCalls", sink="github", outcome="skipped") == 1
    assert latency_count(metrics) == 0
