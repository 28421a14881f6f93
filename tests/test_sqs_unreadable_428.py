"""An entry of a receive's answer that cannot be read (no MessageId or ReceiptHandle, a body
that is no UTF-8 text) is counted as the README's metrics promise for a failed message:
received, `MessagesFailed{reason=unreadable}`, and `MessagesDeadLettered{reason=unreadable}`
on its last receive, with the one line that says why (task 428)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, MutableMapping
from typing import Any

import pytest
import structlog

from triage.metrics import Metrics
from triage.sqs.inbox import Message, SqsInbox
from triage.sqs.supervisor import Supervisor, SupervisorConfig

Logs = list[MutableMapping[str, Any]]
Entry = dict[str, Any]

#: Bodies no UTF-8 can carry (a lone surrogate, as a stand-in's JSON escape sends it).
NOT_TEXT = "alert \ud800 text"


def _entry(mid: str | None = "m-1", handle: str | None = "rh-1", **fields: Any) -> Entry:
    """One ReceiveMessage entry, its receive count as given (`count`), or absent."""
    count = fields.pop("count", "1")
    entry: Entry = {"Body": fields.pop("body", "{}"), **fields}
    if mid is not None:
        entry["MessageId"] = mid
    if handle is not None:
        entry["ReceiptHandle"] = handle
    if count is not None:
        entry["Attributes"] = {"ApproximateReceiveCount": count}
    return entry


class _Sqs:
    """An SQS client whose first receive answers `entries`, every later one nothing; it
    records the receipt handles each visibility change was asked for."""

    def __init__(self, *entries: Entry) -> None:
        self.answers = [list(entries)]
        self.released: list[tuple[str, int]] = []

    async def receive_message(self, **_call: Any) -> dict[str, Any]:
        return {"Messages": self.answers.pop()} if self.answers else {}

    async def change_message_visibility_batch(self, **call: Any) -> dict[str, Any]:
        self.released += [(e["ReceiptHandle"], e["VisibilityTimeout"]) for e in call["Entries"]]
        return {"Successful": [{"Id": e["Id"]} for e in call["Entries"]]}

    async def delete_message_batch(self, **call: Any) -> dict[str, Any]:
        return {"Successful": [{"Id": e["Id"]} for e in call["Entries"]]}

    async def get_queue_attributes(self, **_call: Any) -> dict[str, Any]:
        return {"Attributes": {}}


async def _never_called(message: Message, _progress: Callable[[], None]) -> list[Any]:
    """The handler: an unreadable entry never reaches it."""
    raise AssertionError(f"handed out: {message.id}")


async def _serve(sqs: _Sqs, max_receive_count: int | None = 3) -> tuple[Supervisor, Logs]:
    """Run a supervisor on `sqs` until its first answer was received, then stop it."""
    inbox = SqsInbox(sqs, "https://sqs.example/q")
    supervisor = Supervisor(SupervisorConfig(wait_s=0), inbox, _never_called, Metrics())
    supervisor.max_receive_count = max_receive_count
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        try:
            async with asyncio.timeout(10):
                while sqs.answers:
                    await asyncio.sleep(0.01)
        finally:
            supervisor.should_exit.set()
            await asyncio.wait_for(serving, 10)
    return supervisor, logs


def _failed(supervisor: Supervisor, metric: str) -> float:
    return supervisor.metrics.counter(metric, reason="unreadable")


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        (_entry(body=NOT_TEXT), "UTF-8"),
        (_entry(mid=None), "no MessageId"),
        (_entry(handle=None), "no MessageId or ReceiptHandle"),
        (_entry(body=5), "int body"),
    ],
    ids=["not_text", "no_id", "no_handle", "not_a_string"],
)
async def test_an_unreadable_entry_is_received_and_failed_with_one_line(
    entry: Entry, why: str
) -> None:
    """Each unreadable entry counts as received and in MessagesFailed{reason=unreadable},
    with one `message.unreadable_entry` warning naming why, and no body text."""
    supervisor, logs = await _serve(_Sqs(entry))
    assert supervisor.stats.received == 1
    assert supervisor.stats.rejected == 1
    assert _failed(supervisor, "MessagesFailed") == 1
    [line] = [e for e in logs if e["event"] == "message.unreadable_entry"]
    assert line["log_level"] == "warning" and line["reason"] == "unreadable"
    assert why in line["error"] and "alert" not in str(line)
    assert _failed(supervisor, "MessagesDeadLettered") == 0


async def test_an_unreadable_entry_with_a_handle_is_released_at_once() -> None:
    """The entry that has a receipt handle is made visible again at once (towards the DLQ),
    one without one is not asked after (it comes back when its visibility ends)."""
    sqs = _Sqs(_entry(body=NOT_TEXT), _entry("m-2", None, body=NOT_TEXT))
    supervisor, _ = await _serve(sqs)
    assert sqs.released == [("rh-1", 0)]
    assert supervisor.stats.received == 2


@pytest.mark.parametrize(
    "entry", [_entry(body=NOT_TEXT, count="3"), _entry(handle=None, count="4")], ids=str
)
async def test_an_unreadable_entry_on_its_last_receive_is_dead_lettered(entry: Entry) -> None:
    """On its last receive by the queue's maxReceiveCount, an unreadable entry counts in
    MessagesDeadLettered{reason=unreadable}, with its `message.dead_lettered` line."""
    supervisor, logs = await _serve(_Sqs(entry), max_receive_count=3)
    assert _failed(supervisor, "MessagesDeadLettered") == 1
    [line] = [e for e in logs if e["event"] == "message.dead_lettered"]
    assert line["reason"] == "unreadable" and line["receive_count"] == int(
        entry["Attributes"]["ApproximateReceiveCount"]
    )


@pytest.mark.parametrize(
    ("count", "limit"), [(None, 3), ("x", 3), ("3", None)], ids=["absent", "garbled", "no_policy"]
)
async def test_an_unreadable_entry_is_not_dead_lettered_on_a_guess(
    count: str | None, limit: int | None
) -> None:
    """Neither a receive count SQS did not say nor an unknown maxReceiveCount makes an
    unreadable entry a dead letter: a guess would lie (it is still failed)."""
    supervisor, _ = await _serve(_Sqs(_entry(body=NOT_TEXT, count=count)), limit)
    assert _failed(supervisor, "MessagesFailed") == 1
    assert _failed(supervisor, "MessagesDeadLettered") == 0


async def test_two_nameless_entries_on_their_last_receive_are_two_dead_letters() -> None:
    """Entries without a MessageId are not taken for one message: each given up on its last
    receive counts."""
    sqs = _Sqs(_entry(None, "rh-1", count="3"), _entry(None, "rh-2", count="3"))
    supervisor, _ = await _serve(sqs)
    assert _failed(supervisor, "MessagesDeadLettered") == 2


async def test_a_stopped_supervisor_no_longer_counts_what_the_inbox_cannot_read() -> None:
    """The supervisor listens to its inbox only while it serves: once stopped, an unreadable
    entry another receive meets counts nothing in it."""
    sqs = _Sqs(_entry(body=NOT_TEXT))
    supervisor, _ = await _serve(sqs)
    sqs.answers = [[_entry("m-2", "rh-2", body=NOT_TEXT)]]
    assert isinstance(supervisor.inbox, SqsInbox)
    await supervisor.inbox.receive(10, 0, 30)
    assert supervisor.stats.received == 1
    assert _failed(supervisor, "MessagesFailed") == 1
