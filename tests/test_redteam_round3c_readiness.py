"""Red team round 3c: /readyz tells the truth after an SQS outage. While receives fail it says
`queue: unreachable`; once SQS answers again it must say ready, whether or not the queue had
anything to give: an idle queue is the usual state of an alerts queue at night."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import structlog

from memory_inbox import MemoryInbox
from triage.errors import InboxError
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig


class FlakyInbox(MemoryInbox):
    """A MemoryInbox whose receives fail while `down` is set (SQS unreachable)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True
        self.answered = 0

    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        if self.down:
            raise InboxError("ReceiveMessage: connection refused")
        got = await super().receive(max_messages, wait_s, visibility_s)
        self.answered += 1
        return got


async def handled(_message: Message, _progress: Progress) -> list[Outcome]:
    return []


async def until(condition: Callable[[], bool], deadline_s: float = 10.0) -> None:
    """Wait until `condition()` holds, failing the test past `deadline_s`."""
    give_up = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < give_up, "condition not met in time"
        await asyncio.sleep(0.01)


def supervisor_on(inbox: FlakyInbox) -> Supervisor:
    config = SupervisorConfig(
        wait_s=0,
        retry_base_s=0,
        shutdown_grace_s=1,
        receive_retry_base_s=0.01,
        receive_retry_max_s=0.02,
    )
    return Supervisor(config, inbox, handled, Metrics())


async def test_readiness_fails_while_receives_fail_and_heals_with_a_message() -> None:
    """Guard: receives failing make the `queue` condition fail; once SQS answers with a
    message the condition is ok again and `receive.recovered` is said once."""
    inbox = FlakyInbox()
    inbox.put("an alert")
    supervisor = supervisor_on(inbox)
    serving = asyncio.create_task(supervisor.serve())
    try:
        await until(lambda: "queue" in supervisor.health.failing())
        assert supervisor.health.readiness()["ready"] is False
        with structlog.testing.capture_logs() as logs:
            inbox.down = False
            await until(lambda: inbox.deleted != [])
            await until(lambda: supervisor.health.ready)
    finally:
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
    assert [e["event"] for e in logs].count("receive.recovered") == 1


async def test_readiness_heals_when_sqs_answers_an_idle_queue() -> None:
    """After an SQS outage, receives that answer (with nothing to give) make /readyz ready
    again and say `receive.recovered` once."""
    inbox = FlakyInbox()
    supervisor = supervisor_on(inbox)
    serving = asyncio.create_task(supervisor.serve())
    try:
        await until(lambda: "queue" in supervisor.health.failing())
        with structlog.testing.capture_logs() as logs:
            inbox.down = False
            # Several answered receives: far more than one loop turn needs to heal.
            await until(lambda: inbox.answered >= 5)
        ready = supervisor.health.readiness()
    finally:
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
    assert ready == {"ready": True, "failing": {}}
    assert [e["event"] for e in logs].count("receive.recovered") == 1
