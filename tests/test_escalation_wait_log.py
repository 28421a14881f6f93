"""A rate-limited escalation is a wait the sweep says at info (`escalation.waiting`, with the
wait), tried again a minute later; a failure is still `escalation.failed` at warning."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime
from typing import Any

import pytest

from memory_store import MemoryStore
from test_escalation_clock import DUE, no_silence, opened
from test_pipeline import LEASE, POLICY, Clock, CountingSummariser, FakeSink
from triage.errors import SinkThrottledError, SinkUnavailableError
from triage.incidents import Incident, Ledger
from triage.incidents.silences import SilenceCache
from triage.metrics import Metrics
from triage.ops.sweep import ESCALATION_RETRY, Sweep
from triage.pipeline import Pipeline
from triage.redact import Redactor


class Refusing:
    """An escalator whose every escalation raises `error`."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    async def escalate(
        self, incident: Incident, now: datetime, sent: Callable[[str], Awaitable[None]] | None
    ) -> None:
        self.calls += 1
        raise self.error


def _throttled() -> SinkThrottledError:
    error = SinkThrottledError(
        "escalation webhook answered 429 (asked to wait 30 s)", retry_after_s=30.0
    )
    error.pauses_intake = False
    return error


@pytest.mark.parametrize(
    ("error", "event", "level"),
    [
        (_throttled(), "escalation.waiting", "info"),
        (SinkUnavailableError("escalation webhook answered 502"), "escalation.failed", "warning"),
    ],
    ids=["rate-limited", "failed"],
)
async def test_a_rate_limited_escalation_is_a_wait_said_at_info(
    logs: list[MutableMapping[str, Any]], error: Exception, event: str, level: str
) -> None:
    """The sweep's escalation refused by a rate limit is logged as a wait at info, a 502 as a
    failure at warning, and either is tried again a minute later."""
    store = MemoryStore(POLICY, LEASE)
    fingerprint = await opened(store)
    clock = Clock()
    clock.now = DUE
    pipeline = Pipeline(
        Ledger(store, clock=clock), CountingSummariser(), [FakeSink("backend")], Metrics(),
        redactor=Redactor(), policy=POLICY,
    )  # fmt: skip
    escalator = Refusing(error)
    sweep = Sweep(store, pipeline, SilenceCache(store, 1), escalator, 5, clock=clock)  # type: ignore[arg-type]
    await sweep._escalate(fingerprint, DUE, no_silence)
    said = [(e["event"], e["log_level"]) for e in logs if e["event"].startswith("escalation.")]
    assert said == [(event, level)]
    stored = await store.get(fingerprint)
    assert stored is not None and stored.escalation is not None
    assert stored.escalation.until == DUE + ESCALATION_RETRY
