"""Messages a shutdown gives back undeleted on their last receive go to the DLQ at their next
receive, so they count in `MessagesDeadLettered` (once each): those cancelled past the grace
under `shutdown`, and those a `--dry-run` held under `dry_run`; none with receives left."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace

from test_signals_dead_letters import LIMIT, RedriveInbox
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait for `condition`, at most 5 s."""
    async with asyncio.timeout(5):
        while not condition():
            await asyncio.sleep(0.01)
    assert condition(), what


def _at_last_receive(inbox: RedriveInbox, message_id: str) -> None:
    """Make the next receive of `message_id` its last under the redrive policy."""
    inbox.entries[message_id].receives = LIMIT - 1


async def _hang(_message: Message, _progress: Progress) -> list[Outcome]:
    """A handler that never finishes: only the shutdown's cancellation ends it."""
    await asyncio.Event().wait()
    return []


async def _stop_once_in_hand(supervisor: Supervisor, inbox: RedriveInbox, count: int) -> None:
    """Serve until `count` messages are in hand, then stop as a signal would."""
    served = asyncio.create_task(supervisor.serve())
    await until(lambda: len(supervisor._in_flight) == count, f"{count} messages in hand")
    supervisor.should_exit.set()
    await asyncio.wait_for(served, 10)


def _config(**overrides: object) -> SupervisorConfig:
    base = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=0.1, cancel_deadline_s=1)
    return replace(base, **overrides)  # type: ignore[arg-type]


async def test_a_message_cancelled_past_the_grace_on_its_last_receive_counts_once() -> None:
    """Of two messages still handled when the grace ends, the one on its last receive counts
    once under `shutdown` (and SQS then moves it to the DLQ); the other counts nothing."""
    inbox = RedriveInbox()
    last, early = inbox.put("last", "early")
    _at_last_receive(inbox, last)
    metrics = Metrics()
    supervisor = Supervisor(_config(), inbox, _hang, metrics)
    supervisor.max_receive_count = LIMIT

    await _stop_once_in_hand(supervisor, inbox, 2)

    assert supervisor.stats.released_on_shutdown == 2
    assert metrics.counter("MessagesDeadLettered", reason="shutdown") == 1
    assert metrics.total("MessagesDeadLettered") == 1
    await inbox.receive(10, 0, 30)
    assert inbox.dead == [last]
    assert early in inbox.entries


async def test_two_deliveries_of_one_message_in_hand_at_shutdown_count_once() -> None:
    """SQS may hand out one message twice at once: both deliveries cancelled at shutdown on
    the last receive are one dead letter, not two."""

    class TwiceInbox(RedriveInbox):
        async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
            got = await super().receive(max_messages, wait_s, visibility_s)
            again = [replace(m, receipt_handle=f"{m.receipt_handle}-again") for m in got]
            return got + again

    inbox = TwiceInbox()
    (message_id,) = inbox.put("twice")
    _at_last_receive(inbox, message_id)
    metrics = Metrics()
    supervisor = Supervisor(_config(), inbox, _hang, metrics)
    supervisor.max_receive_count = LIMIT

    await _stop_once_in_hand(supervisor, inbox, 2)

    assert metrics.counter("MessagesDeadLettered", reason="shutdown") == 1


async def test_a_shutdown_without_a_known_policy_counts_no_dead_letter() -> None:
    """Without the queue's maxReceiveCount nothing is guessed: a message cancelled at
    shutdown on a high receive count counts nothing."""
    inbox = RedriveInbox()
    (message_id,) = inbox.put("last")
    _at_last_receive(inbox, message_id)
    metrics = Metrics()
    supervisor = Supervisor(_config(), inbox, _hang, metrics)

    await _stop_once_in_hand(supervisor, inbox, 1)

    assert supervisor.stats.released_on_shutdown == 1
    assert metrics.total("MessagesDeadLettered") == 0


async def test_a_dry_run_message_released_on_its_last_receive_counts_as_dead_lettered() -> None:
    """--dry-run's receive spends a receive like any other: a message it held on its last
    receive goes to the DLQ once released at exit, so it counts once under `dry_run`; the
    others, released with receives left, count nothing."""
    inbox = RedriveInbox()
    last, early, bad = inbox.put("last", "early", "bad")
    _at_last_receive(inbox, last)
    _at_last_receive(inbox, bad)

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        if message.body == "bad":
            raise ValueError("a failed dry pass is held like the others")
        return []

    metrics = Metrics()
    supervisor = Supervisor(_config(drain=True, dry_run=True), inbox, handler, metrics)
    supervisor.max_receive_count = LIMIT
    await asyncio.wait_for(supervisor.serve(), 10)

    assert inbox.deleted == []
    assert metrics.counter("MessagesDeadLettered", reason="dry_run") == 2
    assert metrics.total("MessagesDeadLettered") == 2
    await inbox.receive(10, 0, 30)
    assert sorted(inbox.dead) == sorted([last, bad])
    assert early in inbox.entries


async def test_a_handled_message_whose_delete_is_out_at_shutdown_is_not_counted() -> None:
    """A message handled on its last receive whose delete is still out when the grace ends
    is not given up on: the delete lands, and nothing counts it as dead-lettered."""

    class SlowDeletes(RedriveInbox):
        def __init__(self) -> None:
            super().__init__()
            self.deleting = asyncio.Event()
            self.supervisor: Supervisor | None = None

        async def delete(self, messages: Sequence[Message]) -> list[str]:
            self.deleting.set()
            supervisor = self.supervisor
            assert supervisor is not None
            # Lands only once both stages are over and the acker is told to stop: the grace
            # ended with it still out.
            await until(lambda: supervisor._acker._stopping, "the acker's stop")
            return await super().delete(messages)

    inbox = SlowDeletes()
    (message_id,) = inbox.put("handled")
    _at_last_receive(inbox, message_id)

    async def handler(_message: Message, _progress: Progress) -> list[Outcome]:
        return []

    metrics = Metrics()
    supervisor = Supervisor(_config(), inbox, handler, metrics)
    supervisor.max_receive_count = LIMIT
    inbox.supervisor = supervisor
    served = asyncio.create_task(supervisor.serve())
    await asyncio.wait_for(inbox.deleting.wait(), 5)
    supervisor.should_exit.set()
    await asyncio.wait_for(served, 10)

    assert inbox.deleted == [message_id]
    assert inbox.visibility_calls == []  # never made visible before its delete landed
    assert metrics.total("MessagesDeadLettered") == 0


async def test_a_message_whose_handler_finishes_in_spite_of_the_cancel_is_not_counted() -> None:
    """A handler that ends its work when cancelled (and returns) has its message acked by its
    own task: the shutdown does not also count it as given up on."""
    inbox = RedriveInbox()
    (message_id,) = inbox.put("stubborn")
    _at_last_receive(inbox, message_id)

    async def handler(_message: Message, _progress: Progress) -> list[Outcome]:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            return []  # finishes its work instead of giving up
        return []

    metrics = Metrics()
    supervisor = Supervisor(_config(), inbox, handler, metrics)
    supervisor.max_receive_count = LIMIT

    await _stop_once_in_hand(supervisor, inbox, 1)

    assert inbox.deleted == [message_id]
    assert metrics.total("MessagesDeadLettered") == 0


def test_a_stops_reasons_are_on_the_page_at_zero_when_the_policy_is_known() -> None:
    """`shutdown` and `dry_run` are declared with the error tree's reasons, so `increase()`
    counts a restart's first given-back message; without a known policy, none is."""
    from triage.ops.known_series import declare_known_series

    known, unknown = Metrics(), Metrics()
    declare_known_series(known, dead_letters=True)
    declare_known_series(unknown)
    for reason in ("shutdown", "dry_run"):
        assert ("MessagesDeadLettered", (("reason", reason),)) in known.declared()
    assert not [key for key in unknown.declared() if key[0] == "MessagesDeadLettered"]
