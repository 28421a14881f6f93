"""A finished message keeps no callback: its `on_lost` and `on_deleted` lists held the
supervisor's and the store's callbacks, which hold the message, so every message of a storm was
a reference cycle only the garbage collector could free. Over an in-memory inbox."""

from __future__ import annotations

from memory_inbox import MemoryInbox
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig


async def test_a_finished_message_holds_no_callback_back_to_the_supervisor() -> None:
    """Each message handled and acked leaves with empty `on_lost` and `on_deleted` lists,
    though the handler added a delete callback as the pipeline does."""
    inbox = MemoryInbox()
    inbox.put("ok-1", "ok-2", "ok-3")
    seen: list[Message] = []

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        seen.append(message)
        message.on_deleted.append(lambda: None)
        return []

    config = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=1, drain=True)
    await Supervisor(config, inbox, handler, Metrics()).serve()
    assert sorted(m.body for m in seen) == ["ok-1", "ok-2", "ok-3"]
    assert [(m.body, m.on_lost, m.on_deleted) for m in seen if m.on_lost or m.on_deleted] == []
