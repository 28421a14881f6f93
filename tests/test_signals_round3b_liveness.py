"""/healthz's loop lag is the worst lag of the last LAG_WINDOW_S however many stalls it holds:
each ages out on its own, and a larger one replaces the smaller ones before it."""

from __future__ import annotations

import pytest

from test_redteam_round3c_liveness import quiet_ticks, watched
from triage.health import Health


async def test_three_falling_stalls_age_out_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stalls of 9 s, 7 s and 6 s a few seconds apart: once the first two are out of the
    window and the last is not, /healthz reports the last one and is not alive."""
    lags = [9.0, *quiet_ticks(5), 7.0, *quiet_ticks(5), 6.0, *quiet_ticks(22)]
    health = await watched(monkeypatch, lags)
    assert health.loop_lag_s == pytest.approx(6.0)
    assert not health.alive


async def test_a_larger_stall_after_a_smaller_one_is_the_one_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 6 s stall, then a 10 s one: the 10 s is reported while it is in the window, and
    once both are out, the loop is alive again."""
    within = await watched(monkeypatch, [6.0, *quiet_ticks(5), 10.0, *quiet_ticks(10)])
    assert within.loop_lag_s == pytest.approx(10.0)
    after = await watched(
        monkeypatch, [6.0, *quiet_ticks(5), 10.0, *quiet_ticks(Health.LAG_WINDOW_S + 5)]
    )
    assert after.loop_lag_s < Health.MAX_LAG_S and after.alive
