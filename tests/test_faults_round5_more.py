"""Round 5 faults, more cases (helper 301): the sweep's far-end read under a store outage.

A throttled `Store.dated_after` leaves the pass going (see tests/test_redteam_round5_faults.py);
these show what the sweep keeps meanwhile: what it saw at the far end (so a claim looked at
before is not read again after the outage), and one warning for the outage, not one a pass."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from factories import T0, alert
from test_lease_clock_sweep import daemon
from triage.errors import StoreThrottledError
from triage.incidents.store import CLAIM_CLOCK_SLACK

DEAD = "m1#0@dead"


async def _throttled(after: datetime) -> list[tuple[str, float]]:
    raise StoreThrottledError("dynamodb throttled the range read")


async def test_a_far_end_claim_seen_before_the_outage_is_not_read_again_after_it() -> None:
    """A live claim a little ahead is looked at once; a pass whose far-end read is throttled,
    then one whose read works again, do not read it again (its index time never changed)."""
    d = daemon()
    d.sink.gate.set()
    await d.sweep.once()
    ahead = T0 + CLAIM_CLOCK_SLACK - timedelta(seconds=1)
    key = (await d.store.begin(alert(), DEAD, ahead)).fingerprint
    reads: list[str] = []
    get, dated_after = d.store.get, d.store.dated_after

    async def counted(fingerprint: str) -> object:
        reads.append(fingerprint)
        return await get(fingerprint)

    d.store.get = counted  # type: ignore[method-assign,assignment]
    for seconds, far_read in ((1, dated_after), (2, _throttled), (3, dated_after)):
        d.store.dated_after = far_read  # type: ignore[method-assign]
        d.clock.now = T0 + timedelta(seconds=seconds)
        await d.sweep.once()
    assert d.sink.effects == []
    assert reads.count(key) == 1


async def test_a_far_end_outage_is_one_warning_and_its_end_one_info() -> None:
    """Three passes with the far-end read throttled log one warning (the rest at debug), and
    the pass it works again says so once."""
    d = daemon()
    d.sink.gate.set()
    dated_after = d.store.dated_after
    with structlog.testing.capture_logs() as logs:
        d.store.dated_after = _throttled  # type: ignore[method-assign]
        for seconds in (1, 2, 3):
            d.clock.now = T0 + timedelta(seconds=seconds)
            await d.sweep.once()
        d.store.dated_after = dated_after  # type: ignore[method-assign]
        await d.sweep.once()
    failed = [e["log_level"] for e in logs if e["event"] == "sweep.far_end_failed"]
    assert failed == ["warning", "debug", "debug"]
    assert [e["event"] for e in logs].count("sweep.far_end_recovered") == 1
