"""ProcessingLatency holds every attempt at a message, whatever its end: handled, failed, held
(told to wait) or cancelled (a worker's timeout). An outage's slow, failing attempts are the
ones an operator most needs to see in the histogram."""

from __future__ import annotations

import asyncio

import pytest

import test_pipeline as pipeline_tests
from triage.errors import SinkUnavailableError, StoreBusyError


def attempts_timed(r: pipeline_tests.Rig) -> int:
    """How many ProcessingLatency observations the rig's pipeline made."""
    timing = r.pipeline.metrics.timings().get(("ProcessingLatency", ()))
    return 0 if timing is None else timing.count


async def test_a_failed_attempt_and_its_successful_retry_are_two_observations() -> None:
    """A message whose sink fails once and takes it on the retry is timed twice."""
    r = pipeline_tests.rig()
    r.sink.failures = 1
    with pytest.raises(SinkUnavailableError):
        await r.pipeline.process(pipeline_tests.crash_loops(range(1)))
    await r.pipeline.process(pipeline_tests.crash_loops(range(1)))
    assert r.sink.kinds() == ["open"]
    assert attempts_timed(r) == 2


async def test_an_attempt_told_to_wait_is_timed() -> None:
    """A second delivery beside a running first one is held (StoreBusyError): timed too."""
    r = pipeline_tests.rig()
    r.sink.gate = asyncio.Event()
    first = asyncio.create_task(
        r.pipeline.process(pipeline_tests.crash_loops(range(1), receipt="a"))
    )
    async with asyncio.timeout(10):
        while r.store.records == {}:
            await asyncio.sleep(0)
    with pytest.raises(StoreBusyError):
        await r.pipeline.process(pipeline_tests.crash_loops(range(1), receipt="b"))
    assert attempts_timed(r) == 1
    r.sink.gate.set()
    await first
    assert attempts_timed(r) == 2


async def test_a_cancelled_attempt_is_timed() -> None:
    """An attempt cancelled while its sink call hangs (the worker's timeout) is timed."""
    r = pipeline_tests.rig()
    r.sink.gate = asyncio.Event()
    attempt = asyncio.create_task(r.pipeline.process(pipeline_tests.crash_loops(range(1))))
    async with asyncio.timeout(10):
        while r.store.records == {}:
            await asyncio.sleep(0)
    attempt.cancel()
    with pytest.raises(asyncio.CancelledError):
        await attempt
    assert attempts_timed(r) == 1
