"""Red team round 3c: a ticket is counted as created once, whatever fails around the sink's
call. The store refusing the confirmation of an open the sink carried out fails the message;
its redelivery redoes the effect (the real sinks find their ticket again by marker or
Idempotency-Key) and only then counts it, so `TicketsCreated` says one ticket."""

from __future__ import annotations

from typing import Any

import test_pipeline as pipeline_tests
from factories import alert
from memory_store import MemoryStore
from triage.errors import StoreUnavailableError
from triage.incidents.ledger import Ledger
from triage.incidents.lifecycle import Action
from triage.metrics import Metrics
from triage.pipeline import Pipeline
from triage.redact import Redactor


class ConfirmFailsOnce(MemoryStore):
    """A store whose first confirmation fails before it writes (DynamoDB throttling it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refusals = 1

    async def confirm(self, *args: Any, **kwargs: Any) -> bool:
        if self.refusals:
            self.refusals -= 1
            raise StoreUnavailableError("throttled")
        return await super().confirm(*args, **kwargs)


def rig_on(store: MemoryStore) -> pipeline_tests.Rig:
    """test_pipeline's rig over `store`."""
    sink = pipeline_tests.FakeSink()
    summariser, clock = pipeline_tests.CountingSummariser(), pipeline_tests.Clock()
    pipeline = Pipeline(
        Ledger(store, clock=clock),
        summariser,
        [sink],
        Metrics(),
        redactor=Redactor(),
        policy=pipeline_tests.POLICY,
    )
    return pipeline_tests.Rig(store, sink, summariser, clock, pipeline)


async def test_an_open_whose_confirmation_failed_is_counted_created_once() -> None:
    """The sink opens the ticket, the store refuses to record it, the message fails; its
    redelivery redoes the open and confirms it: TicketsCreated is 1, not 0 and not 2. The
    ticket is counted when the sink opened it (its confirmation's failure may have been a
    write done but unanswered), so a message dead-lettered after it still counts it, and the
    retry that writes the kept answer counts it no more."""
    r = rig_on(ConfirmFailsOnce(pipeline_tests.POLICY, pipeline_tests.LEASE))
    failed = False
    try:
        await r.send(0, owner="m-open")
    except StoreUnavailableError:
        failed = True
    assert failed
    assert r.pipeline.metrics.total("TicketsCreated") == 1
    assert r.sink.kinds() == ["open"]
    action = await r.pipeline.handle(alert(minutes=0), "m-open", redelivered=True)
    assert action in (Action.OPEN, Action.IGNORE)
    assert r.pipeline.metrics.total("TicketsCreated") == 1
