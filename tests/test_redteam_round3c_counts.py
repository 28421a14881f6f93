"""Red team round 3c: the message counters add up across retries and replicas. A message that
fails and is then handled is one retry and one handled message; one that reaches the DLQ is
dead-lettered once, whichever replica holds its last receive."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

from test_signals_dead_letters import LIMIT, RedriveInbox
from triage.errors import DecodeError, SinkUnavailableError
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
from triage.ops.known_series import declare_known_series
from triage.ops.prometheus import prometheus_text
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig

NO_HANDLED_COUNTER = (
    "no counter says how many messages were handled (acked): the supervisor keeps "
    "`stats.acked` for its exit line only (sqs/working.py), so neither /metrics nor CloudWatch "
    "can show a failure ratio (MessagesFailed over messages handled) or prove a message that "
    "failed once and then succeeded was handled once; ProcessingLatency's count is the only "
    "proxy and it leaves failures out"
)
#: The names such a counter could take on /metrics.
HANDLED_FAMILY = re.compile(
    r"^triage_messages_(handled|processed|acked|deleted|succeeded)_total(\{[^}]*\})? (\S+)$",
    re.M,
)


def config() -> SupervisorConfig:
    """A drain over an in-memory queue whose failed messages are visible again at once."""
    return SupervisorConfig(
        wait_s=0,
        drain=True,
        retry_base_s=0,
        shutdown_grace_s=1,
        visibility_timeout_s=1,
        max_hold_s=3600.0,
    )


async def test_two_replicas_count_a_poison_message_dead_lettered_once_between_them() -> None:
    """Two replicas sharing one queue receive a message that never decodes (whichever takes
    it) until the redrive policy moves it: MessagesFailed counts each of its LIMIT receives once
    and MessagesDeadLettered counts it once, summed over both replicas."""
    inbox = RedriveInbox()
    (poison,) = inbox.put("poison")
    seen_by: list[int] = []

    def handler_of(replica: int) -> Callable[[Message, Progress], Awaitable[list[Outcome]]]:
        async def handler(message: Message, _progress: Progress) -> list[Outcome]:
            seen_by.append(replica)
            raise DecodeError("not JSON")

        return handler

    replicas = [Metrics(), Metrics()]
    supervisors = [
        Supervisor(config(), inbox, handler_of(i), metrics) for i, metrics in enumerate(replicas)
    ]
    for supervisor in supervisors:
        supervisor.max_receive_count = LIMIT
    await asyncio.wait_for(asyncio.gather(*(s.serve() for s in supervisors)), 10)
    assert inbox.dead == [poison]
    assert len(seen_by) == LIMIT
    assert sum(m.counter("MessagesFailed", reason="decode") for m in replicas) == LIMIT
    assert sum(m.counter("MessagesDeadLettered", reason="decode") for m in replicas) == 1
    assert sum(m.total("MessagesDeadLettered") for m in replicas) == 1


async def test_a_message_that_fails_then_succeeds_is_one_retry_and_no_dead_letter() -> None:
    """A message whose sink fails on its first receive and takes it on its second counts one
    MessagesFailed, no MessagesDeadLettered, and is deleted once."""
    inbox = RedriveInbox()
    (flaky,) = inbox.put("flaky")
    tries = 0

    async def handler(_message: Message, _progress: Progress) -> list[Outcome]:
        nonlocal tries
        tries += 1
        if tries == 1:
            raise SinkUnavailableError("503")
        return []

    metrics = Metrics()
    supervisor = Supervisor(config(), inbox, handler, metrics)
    supervisor.max_receive_count = LIMIT
    await asyncio.wait_for(supervisor.serve(), 10)
    assert inbox.deleted == [flaky]
    assert metrics.total("MessagesFailed") == 1
    assert metrics.total("MessagesDeadLettered") == 0


async def test_metrics_say_how_many_messages_were_handled() -> None:
    """A message that fails once and is then handled shows on /metrics as one handled message
    beside its one failed attempt, so an operator can read a failure ratio."""
    inbox = RedriveInbox()
    inbox.put("flaky")
    tries = 0

    async def handler(_message: Message, _progress: Progress) -> list[Outcome]:
        nonlocal tries
        tries += 1
        if tries == 1:
            raise SinkUnavailableError("503")
        return []

    metrics = Metrics()
    declare_known_series(metrics, dead_letters=True)
    supervisor = Supervisor(config(), inbox, handler, metrics)
    supervisor.max_receive_count = LIMIT
    await asyncio.wait_for(supervisor.serve(), 10)
    assert supervisor.stats.acked == 1
    page = prometheus_text(metrics)
    found = HANDLED_FAMILY.findall(page)
    assert [float(value) for _, _, value in found] == [1.0], NO_HANDLED_COUNTER
