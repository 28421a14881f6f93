"""Round 5 faults, more cases (helper 301): the sweep's far-end read under a store outage, and
a child closed by its parent's deletion.

A throttled `Store.dated_after` leaves the pass going (see tests/test_redteam_round5_faults.py);
these show what the sweep keeps meanwhile: what it saw at the far end (so a claim looked at
before is not read again after the outage), and one warning for the outage, not one a pass. The deletion's answer to a child's firing ranks
newer than that firing's own message delivered again, but not than a later message."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import structlog

from factories import T0, alert
from memory_store import MemoryStore
from test_cloudwatch_contributors_close import contributor, deletion, message, replica, title
from test_lease_clock_sweep import daemon
from test_pipeline import LEASE, POLICY, Clock
from triage.errors import StoreThrottledError
from triage.incidents import State
from triage.incidents.store import CLAIM_CLOCK_SLACK
from triage.sqs.inbox import Message

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


# --- A child closed by its parent's deletion: only its own firing again is older --------------


async def test_a_childs_firing_queued_after_the_deletion_still_reopens_it() -> None:
    """The answer to a child's firing ranks newer than that firing alone: a firing of the
    child stamped alike but queued after the deletion (a later message) is news, and
    reopens the child the deletion closed."""
    store = MemoryStore(POLICY, LEASE)
    one = replica(store, Clock())
    await one.process(message("f1", contributor("a", "ALARM", "13:00")))
    await one.process(message("f2", contributor("a", "ALARM", "15:00")))
    await one.process(message("del", deletion("15:00")))
    later = T0 + timedelta(seconds=1)
    again = Message("f3", json.dumps(contributor("a", "ALARM", "15:00")), "rh-f3", 1, later,
                    received_at=later)  # fmt: skip
    await one.process(again)
    states = {i.title: i.state for i in await store.incidents()}
    assert states[title("a")] is State.OPEN
