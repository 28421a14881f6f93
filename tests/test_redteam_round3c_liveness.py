"""Red team round 3c: /healthz's loop lag is "the worst lag seen within the last
LAG_WINDOW_S" (health.py). The watchdog's clock and sleep are replaced by a scripted one, so
each tick's lag is exactly what the test says, without blocking the loop for seconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import SimpleNamespace

import pytest

import triage.health
from triage.health import Health

INTERVAL_S = 0.5


class ScriptedLoop:
    """A monotonic clock and a sleep for the watchdog: each sleep returns `interval` plus the
    next scripted lag later; once the script runs out, the sleep waits for good."""

    def __init__(self, lags_s: list[float]) -> None:
        self.now_s = 1000.0
        self.lags_s = list(lags_s)
        self.done = asyncio.Event()

    def monotonic(self) -> float:
        return self.now_s

    async def sleep(self, seconds: float) -> None:
        if not self.lags_s:
            self.done.set()
            await asyncio.Event().wait()
        self.now_s += seconds + self.lags_s.pop(0)
        await asyncio.sleep(0)


async def watched(monkeypatch: pytest.MonkeyPatch, lags_s: list[float]) -> Health:
    """A Health whose watchdog ran through `lags_s`, one tick each."""
    loop = ScriptedLoop(lags_s)
    monkeypatch.setattr(triage.health, "time", SimpleNamespace(monotonic=loop.monotonic))
    monkeypatch.setattr(triage.health, "asyncio", SimpleNamespace(sleep=loop.sleep))
    health = Health(clock=loop.monotonic)
    watcher = asyncio.create_task(health.watch_loop(INTERVAL_S))
    try:
        await until(loop.done.is_set)
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
    return health


async def until(condition: Callable[[], bool], deadline_s: float = 10.0) -> None:
    give_up = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < give_up, "condition not met in time"
        await asyncio.sleep(0.001)


def quiet_ticks(seconds: float) -> list[float]:
    return [0.0] * int(seconds / INTERVAL_S)


async def test_a_stall_is_remembered_for_the_window_and_then_forgotten(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Guard: one 10 s stall makes /healthz not alive for the window after it, and alive
    again once the window has passed with the loop turning on time."""
    within = await watched(monkeypatch, [10.0, *quiet_ticks(Health.LAG_WINDOW_S - 5)])
    assert within.loop_lag_s == pytest.approx(10.0)
    assert not within.alive
    after = await watched(monkeypatch, [10.0, *quiet_ticks(Health.LAG_WINDOW_S + 5)])
    assert after.loop_lag_s < Health.MAX_LAG_S
    assert after.alive


async def test_a_second_stall_within_the_window_outlives_the_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 10 s stall, then a 6 s stall about 26 s after it: 6 s after the second (inside the
    window) and over 30 s after the first (out of it), /healthz is still not alive."""
    lags = [10.0, *quiet_ticks(20), 6.0, *quiet_ticks(6)]
    health = await watched(monkeypatch, lags)
    assert health.loop_lag_s == pytest.approx(6.0)
    assert not health.alive
